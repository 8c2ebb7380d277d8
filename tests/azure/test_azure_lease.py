"""CMP-007: a blob leased by another client: writes and deletes raise ResourceLocked and
change nothing."""

from __future__ import annotations

import pytest
from azure.storage.blob import BlobServiceClient

from remote_store.errors import PreconditionFailed, ResourceLocked
from remote_store.store import Store
from tests.azure_support import Azurite

pytestmark = pytest.mark.azure


def test_a_leased_blob_is_resource_locked(azurite: Azurite, container: str, store: Store) -> None:
    store.write("held.txt", b"original")
    with BlobServiceClient.from_connection_string(azurite.connection_string) as service:
        blob = service.get_blob_client(container, "held.txt")
        lease = blob.acquire_lease(lease_duration=-1)
        try:
            for change in (
                lambda: store.write("held.txt", b"new", overwrite=True),
                lambda: store.delete("held.txt"),
            ):
                with pytest.raises(ResourceLocked) as raised:
                    change()
                assert isinstance(raised.value, PreconditionFailed)
                assert raised.value.path == "held.txt"
            assert store.read_bytes("held.txt") == b"original"
        finally:
            lease.release()
    store.write("held.txt", b"new", overwrite=True)
    assert store.read_bytes("held.txt") == b"new"
