"""OBJ-008: blobs written by other tools under names no path can reach (``a//b``, a leading
``/``, ``..``, a backslash) are skipped by every listing, each with a logged reason, instead
of being listed under a name that then raises."""

from __future__ import annotations

import logging

import pytest
from azure.storage.blob import BlobServiceClient

from remote_store.store import Store
from tests.azure_support import Azurite

pytestmark = pytest.mark.azure

FOREIGN = ["a//b.txt", "/leading.txt", "x//y/z.txt"]


def test_unaddressable_blobs_are_skipped_and_logged(
    azurite: Azurite, container: str, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    store.write("dir/ok.txt", b"ok")
    with BlobServiceClient.from_connection_string(azurite.connection_string) as service:
        client = service.get_container_client(container)
        for name in FOREIGN:
            client.upload_blob(name, b"foreign")
        assert len(list(client.list_blobs())) == len(FOREIGN) + 1
    with caplog.at_level(logging.WARNING, logger="remote_store.objectstore"):
        listed = [info.path for info in store.list_files("", recursive=True)]
        children = [entry.path for entry in store.iter_children("")]
        globbed = [info.path for info in store.glob("**")]
        info = store.get_folder_info("")
    assert listed == globbed == ["dir/ok.txt"]
    # Folders holding only such blobs stay folders, listing nothing they cannot reach.
    assert children == ["a", "dir", "x"]
    assert all(store.is_folder(path) for path in children)
    assert [i.path for i in store.list_files("a", recursive=True)] == []
    assert (info.file_count, info.total_size) == (1, 2)
    for path in listed:
        assert store.read_bytes(path) == b"ok"  # everything listed can be read
    skipped = " ".join(record.getMessage() for record in caplog.records)
    for name in FOREIGN:
        assert repr(name)[1:-1] in skipped, name
