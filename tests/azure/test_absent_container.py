"""A container that does not exist, on Azurite (flat) and the HNS emulator (AZ-090..AZ-094).

Probes answer no and ``missing_ok`` deletions are quiet; everything else raises `NotFound`
naming the container, listings included, and nothing creates the container.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from azure.core.exceptions import AzureError
from azure.storage.blob import BlobServiceClient

from remote_store.backends.azure import AzureBackend
from remote_store.errors import ContainerNotFound, NotFound
from tests.azure_support import ACCOUNT_KEY, Azurite
from tests.hns_emulator import HnsEmulator

MiB = 1024 * 1024


@pytest.fixture(
    params=[
        pytest.param(("flat", None), marks=pytest.mark.azure, id="flat-detected"),
        pytest.param(("flat", False), marks=pytest.mark.azure, id="flat-declared"),
        pytest.param(("hns", None), id="hns-detected"),
        pytest.param(("hns", True), id="hns-declared"),
    ]
)
def absent(request: pytest.FixtureRequest) -> Iterator[tuple[AzureBackend, str]]:
    """A backend on a container nobody created, and the account's connection string."""
    kind, hns = request.param
    if kind == "flat":
        conn = request.getfixturevalue("azurite").connection_string
    else:
        conn = request.getfixturevalue("hns_emulator").connection_string
    name = f"absent-{uuid.uuid4().hex[:12]}"
    backend = AzureBackend(name, connection_string=conn, hns=hns)
    yield backend, conn
    backend.close()
    with BlobServiceClient.from_connection_string(conn) as service:
        assert not service.get_container_client(name).exists(), "nothing creates it"


def _name(backend: AzureBackend) -> str:
    return str(backend.resolve("").details["container"])


def test_probes_answer_no(absent: tuple[AzureBackend, str]) -> None:
    """AZ-090: exists, is_file, is_folder are False and head is None, on files and folders."""
    backend, _ = absent
    for path in ("a.txt", "dir", "dir/b.txt"):
        assert backend.exists(path) is False
        assert backend.is_file(path) is False
        assert backend.is_folder(path) is False
        assert backend.head(path) is None


def test_missing_ok_deletions_are_quiet(absent: tuple[AzureBackend, str]) -> None:
    """AZ-091: delete and delete_folder with missing_ok=True have nothing to do."""
    backend, _ = absent
    backend.delete("a.txt", missing_ok=True)
    backend.delete("dir/a.txt", missing_ok=True, if_match="0x8dc0ffee")
    backend.delete_folder("dir", missing_ok=True)
    backend.delete_folder("dir", recursive=True, missing_ok=True)


def _open_atomic(backend: AzureBackend) -> None:
    with backend.open_atomic("dir/new.txt") as stream:
        stream.write(b"content")


OPERATIONS: dict[str, Callable[[AzureBackend], Any]] = {
    # listings (AZ-092): a mistyped container must not look like an empty folder
    "list_files": lambda b: list(b.list_files("")),
    "list_files recursive": lambda b: list(b.list_files("dir", recursive=True)),
    "iter_children": lambda b: list(b.iter_children("")),
    "list_folders": lambda b: list(b.list_folders("")),
    "glob": lambda b: list(b.glob("**/*.csv")),
    "get_folder_info root": lambda b: b.get_folder_info(""),
    "get_folder_info": lambda b: b.get_folder_info("dir"),
    # deletions that must find their target (AZ-091)
    "delete": lambda b: b.delete("a.txt"),
    "delete_folder": lambda b: b.delete_folder("dir", recursive=True),
    # reads (AZ-093)
    "get_file_info": lambda b: b.get_file_info("a.txt"),
    "read_bytes": lambda b: b.read_bytes("a.txt"),
    "read": lambda b: b.read("a.txt"),
    "read_seekable": lambda b: b.read_seekable("a.txt"),
    "read_to": lambda b: b.read_to("a.txt", io.BytesIO()),
    "copy": lambda b: b.copy("a.txt", "b.txt"),
    "move": lambda b: b.move("a.txt", "b.txt"),
    # writes (AZ-094): never create the container
    "write": lambda b: b.write("dir/new.txt", b"content"),
    "write overwrite": lambda b: b.write("new.txt", b"content", overwrite=True),
    "write staged": lambda b: b.write("big.bin", io.BytesIO(b"\0" * (9 * MiB))),
    "write_atomic": lambda b: b.write_atomic("new.txt", b"content"),
    "open_atomic": _open_atomic,
    "ping": lambda b: b.ping(),
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_everything_else_names_the_container(
    absent: tuple[AzureBackend, str], operation: str
) -> None:
    """AZ-092..AZ-094: NotFound whose message names the container and the service's code;
    the SDK error is the cause (AZ-070); no credential in the message."""
    backend, _ = absent
    with pytest.raises(ContainerNotFound) as caught:
        OPERATIONS[operation](backend)
    message = str(caught.value)
    assert f"container {_name(backend)!r} does not exist" in message
    assert "ContainerNotFound" in message or "FilesystemNotFound" in message
    assert isinstance(caught.value.__cause__, AzureError)
    assert ACCOUNT_KEY not in message and "AccountKey" not in message


def test_listing_raises_on_first_item_not_before(absent: tuple[AzureBackend, str]) -> None:
    """AZ-092: listings stay lazy: the call returns an iterator, the first item raises."""
    backend, _ = absent
    listing = backend.list_files("", recursive=True)
    with pytest.raises(NotFound, match="does not exist"):
        next(listing)


def test_existing_container_is_unaffected(azurite: Azurite, hns_emulator: HnsEmulator) -> None:
    """AZ-092: in a container that exists, a missing folder still lists nothing and a
    missing file is still plain NotFound (no container named)."""
    for conn in (azurite.connection_string, hns_emulator.connection_string):
        name = f"present-{uuid.uuid4().hex[:12]}"
        with BlobServiceClient.from_connection_string(conn) as service:
            service.create_container(name)
            try:
                with AzureBackend(name, connection_string=conn) as backend:
                    assert list(backend.list_files("nowhere", recursive=True)) == []
                    with pytest.raises(NotFound) as caught:
                        backend.read_bytes("nowhere.txt")
                    assert "container" not in str(caught.value)
            finally:
                service.delete_container(name)
