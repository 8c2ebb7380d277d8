"""``if_match`` on the flat strategy: the header on the wire and the round trips (AZ-080..)."""

from __future__ import annotations

import pytest

from remote_store.errors import NotFound, PreconditionFailed
from remote_store.store import Store
from tests.azure_support import RequestLog

SMALL = b"x" * 1000


def test_conditional_write_is_one_request(store: Store, requests_log: RequestLog) -> None:
    """AZ-080: success is one Put Blob; a stale etag costs one HEAD more (to tell a
    changed file from a missing one)."""
    etag = store.write("a.bin", SMALL).etag
    assert etag
    requests_log.clear()
    fresh = store.write("a.bin", b"new", overwrite=True, if_match=etag)
    assert len(requests_log) == 1, requests_log.show()
    requests_log.clear()
    with pytest.raises(PreconditionFailed):
        store.write("a.bin", b"stale", overwrite=True, if_match=etag)
    assert len(requests_log) == 2, requests_log.show()
    assert store.read_bytes("a.bin") == b"new"
    assert fresh.etag == store.get_file_info("a.bin").etag


def test_conditional_delete_is_one_request(store: Store, requests_log: RequestLog) -> None:
    """AZ-080: Delete Blob with If-Match."""
    etag = store.write("a.bin", SMALL).etag
    requests_log.clear()
    store.delete("a.bin", if_match=etag)
    assert len(requests_log) == 1, requests_log.show()
    with pytest.raises(NotFound):
        store.delete("a.bin", if_match=etag)


def test_staged_commit_carries_if_match(store: Store, make_backend: object) -> None:
    """AZ-080: a large write stages blocks and conditions the Put Block List."""
    from remote_store.backends.azure import AzureBackend

    assert callable(make_backend)
    small_blocks: AzureBackend = make_backend(
        client_options={"max_single_put_size": 1024, "max_block_size": 1024}
    )
    staged = Store(small_blocks)
    etag = staged.write("big.bin", b"a" * 5000).etag
    staged.write("big.bin", b"b" * 5000, overwrite=True)
    with pytest.raises(PreconditionFailed):
        staged.write("big.bin", b"c" * 5000, overwrite=True, if_match=etag)
    assert staged.read_bytes("big.bin") == b"b" * 5000
