"""``if_match`` on the hierarchical strategy: headers and round trips (AZ-081)."""

from __future__ import annotations

import pytest

from remote_store.errors import PreconditionFailed
from remote_store.store import Store
from tests.azure_hns.conftest import HeaderLog, Wire


def test_conditional_write_sends_the_service_etag(
    store: Store, wire: Wire, headers_log: HeaderLog
) -> None:
    """AZ-081: the reported (lower-case, unquoted) etag goes out quoted, as the service
    wrote it; success is one Put Blob."""
    result = store.write("a.bin", b"one")
    assert result.etag and result.etag == result.etag.lower()
    wire.clear()
    headers_log.clear()
    store.write("a.bin", b"two", overwrite=True, if_match=result.etag)
    assert len(wire) == 1, wire.show()
    sent = headers_log.sent[-1].headers["if-match"]
    assert sent.startswith('"0x') and sent.strip('"').lower() == result.etag


def test_conditional_delete_and_move_round_trips(store: Store, wire: Wire) -> None:
    """AZ-081: delete and move are HEAD + one request, the HEAD's etag checked first."""
    etag = store.write("a.bin", b"one").etag
    wire.clear()
    store.move("a.bin", "b.bin", if_match=etag)
    assert len(wire) == 2, wire.show()
    wire.clear()
    store.delete("b.bin", if_match=etag)  # a rename keeps the etag
    assert len(wire) == 2, wire.show()
    store.write("c.bin", b"one")
    wire.clear()
    with pytest.raises(PreconditionFailed):
        store.delete("c.bin", if_match="0x8d0000000000000")
    assert len(wire) == 1, wire.show()  # refused on the HEAD's etag, nothing sent after
    assert store.read_bytes("c.bin") == b"one"
