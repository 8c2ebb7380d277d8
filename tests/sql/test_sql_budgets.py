"""SQL-005, SQL-008: statements per operation (counted on the engine, the same on both
databases) and the memory a large streamed write and read hold (tracemalloc)."""

from __future__ import annotations

import hashlib
import tracemalloc
from collections.abc import Callable
from typing import Any, BinaryIO, cast

import pytest
import sqlalchemy as sa

from remote_store.store import Store
from tests.perf.streams import CountingStream
from tests.sql.conftest import Factory, StatementLog

MiB = 1024 * 1024
SMALL = b"x" * 1024
Op = Callable[[Store], object]

# Statements sent per operation on a small (one-chunk) file. Writes also send BEGIN and
# COMMIT; reads on PostgreSQL run in autocommit and send nothing else.
BUDGETS: dict[str, tuple[Op, int]] = {
    # namespace check + chunk + INSERT ... ON CONFLICT DO NOTHING RETURNING
    "write": (lambda s: s.write("new.bin", SMALL), 3),
    # namespace check + chunk + SELECT version + UPDATE ... WHERE version + DELETE old chunks
    "write-overwrite": (lambda s: s.write("a.bin", SMALL, overwrite=True), 5),
    # namespace check + chunk + UPDATE ... WHERE version = :old + DELETE old chunks
    "write-if-match": (
        lambda s: s.write("a.bin", SMALL, overwrite=True, if_match=s.get_file_info("a.bin").etag),
        1 + 4,  # the caller's get_file_info, then the write
    ),
    # the row joined with its first chunk
    "read_bytes": (lambda s: s.read_bytes("a.bin"), 1),
    "get_file_info": (lambda s: s.get_file_info("a.bin"), 1),
    "exists": (lambda s: s.exists("a.bin"), 1),
    # DELETE ... RETURNING version + DELETE its chunks
    "delete": (lambda s: s.delete("a.bin"), 2),
    # SELECT version + namespace check + DELETE destination + UPDATE key
    "move": (lambda s: s.move("a.bin", "b.bin"), 4),
    # HEAD (the core) + SELECT ... FOR SHARE + namespace check + INSERT ... SELECT chunks + INSERT
    "copy": (lambda s: s.copy("a.bin", "c.bin"), 5),
    "list_files": (lambda s: list(s.list_files("", recursive=True)), 1),
}


@pytest.mark.parametrize("name", list(BUDGETS))
def test_statements_per_operation(make_backend: Factory, name: str) -> None:
    op, expected = BUDGETS[name]
    backend = make_backend()
    store = Store(backend)
    store.write("a.bin", SMALL)
    log = StatementLog(backend.unwrap(sa.Engine))
    op(store)
    assert len(log) == expected, log.statements


def test_large_file_costs_one_statement_per_chunk(make_backend: Factory) -> None:
    """A 10-chunk file: the write sends one INSERT per chunk, the read one SELECT per chunk."""
    backend = make_backend(chunk_size=64 * 1024)
    store = Store(backend)
    log = StatementLog(backend.unwrap(sa.Engine))
    store.write("big.bin", b"y" * (640 * 1024))
    assert len(log) == 2 + 10, log.statements
    log.clear()
    assert len(store.read_bytes("big.bin")) == 640 * 1024
    assert len(log) == 10, log.statements


def _peak_during(action: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - base


SIZE = 64 * MiB
CHUNK = 1 * MiB
# One chunk being filled, the bytes handed to the driver, the driver's own copy; plus the
# source's 1 MiB reads and bookkeeping.
WRITE_BOUND = 4 * CHUNK + 2 * MiB
# The chunk held, the one being fetched, the caller's 1 MiB read.
READ_BOUND = 3 * CHUNK + 2 * MiB


def test_large_write_and_read_hold_bounded_memory(make_backend: Factory) -> None:
    """SQL-005: a 64 MiB streamed write and read hold a few chunks, not the file."""
    store = Store(make_backend(chunk_size=CHUNK))
    source = CountingStream(SIZE)
    write_peak = _peak_during(lambda: store.write("big.bin", cast(BinaryIO, source)))
    assert source.pos == SIZE
    digest = hashlib.md5()

    def read() -> None:
        with store.read("big.bin") as stream:
            while block := stream.read(MiB):
                digest.update(block)

    read_peak = _peak_during(read)
    print(f"\nwrite peak {write_peak / MiB:.1f} MiB, read peak {read_peak / MiB:.1f} MiB")
    assert digest.hexdigest() == source.md5.hexdigest()
    assert write_peak <= WRITE_BOUND, f"write held {write_peak / MiB:.1f} MiB"
    assert read_peak <= READ_BOUND, f"read held {read_peak / MiB:.1f} MiB"


def test_seekable_read_fetches_only_the_chunks_it_needs(make_backend: Factory) -> None:
    """SQL-005: `read_seekable` is ranged: the open is the row alone (no chunk), a seek costs
    nothing, a read one chunk row."""
    backend = make_backend(chunk_size=4096)
    store = Store(backend)
    data = bytes(range(256)) * 160  # 40 KiB: 10 chunks
    store.write("f.bin", data)
    engine = backend.unwrap(sa.Engine)
    log = StatementLog(engine)
    sent: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda _c, _k, sql, *_: sent.append(sql))
    with store.read_seekable("f.bin") as stream:
        assert len(log) == 1  # the row, not joined with a chunk
        assert "JOIN" not in sent[-1].upper(), sent
        stream.seek(9 * 4096 + 100)
        assert stream.read(50) == data[9 * 4096 + 100 : 9 * 4096 + 150]
        assert len(log) == 2
        stream.seek(10)
        assert stream.read(10) == data[10:20]
        assert len(log) == 3, log.statements
