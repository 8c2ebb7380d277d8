"""SQL-005 (issue 21): a seekable read fetches a slice of one chunk sized to the read (at
least 64 KiB, doubling while reads continue), not whole chunks; a forward read still
fetches whole chunks. Seen in the statements sent to SQLite and PostgreSQL."""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa

from remote_store.backends.sql.reader import FIRST_SPAN
from remote_store.store import Store
from tests.sql.conftest import Factory

MiB = 1024 * 1024


def _record(engine: sa.Engine) -> list[tuple[str, list[int]]]:
    """Each SELECT sent, with the integers bound to it."""
    sent: list[tuple[str, list[int]]] = []

    def before(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        values = params.values() if isinstance(params, dict) else (params or ())
        if sql.lstrip().upper().startswith("SELECT"):
            sent.append((sql.lower(), [v for v in values if isinstance(v, int)]))

    sa.event.listen(engine, "before_cursor_execute", before)
    return sent


def test_seekable_reads_fetch_slices_sized_to_the_read(make_backend: Factory) -> None:
    """A 10-byte read in a 1 MiB chunk fetches 64 KiB of it; a 200,000-byte read 200,000
    bytes; reads continuing the last fetch double it; the open fetches no chunk."""
    backend = make_backend(chunk_size=MiB)
    store = Store(backend)
    data = os.urandom(3 * MiB)
    store.write("f.bin", data)
    sent = _record(backend.unwrap(sa.Engine))
    with store.read_seekable("f.bin") as stream:
        assert len(sent) == 1 and "substr" not in sent[0][0], sent  # the row alone
        stream.seek(MiB + 100)
        assert stream.read(10) == data[MiB + 100 : MiB + 110]
        stream.seek(2 * MiB + 5)
        assert stream.read(200_000) == data[2 * MiB + 5 : 2 * MiB + 200_005]
        assert stream.read(200_000) == data[2 * MiB + 200_005 : 2 * MiB + 400_005]
    slices = [ints for sql, ints in sent if "substr" in sql]
    assert len(slices) == 3 == len(sent) - 1, sent
    # substr(data, offset in the chunk + 1, length): the chunk's 1 MiB never comes whole.
    assert 101 in slices[0] and FIRST_SPAN in slices[0], slices
    length = max(slices[1])  # the read's size, as io.BufferedReader (64 KiB) asks for it
    assert 6 in slices[1] and abs(length - 200_000) < 64 * 1024, slices
    assert 2 * length in slices[2], slices  # continuing the last fetch: twice it


def test_forward_reads_fetch_whole_chunks(make_backend: Factory) -> None:
    """read() fetches whole chunk rows (the first with the file's row), no slices."""
    backend = make_backend(chunk_size=64 * 1024)
    store = Store(backend)
    data = os.urandom(5 * 64 * 1024 + 7)
    store.write("f.bin", data)
    sent = _record(backend.unwrap(sa.Engine))
    with store.read("f.bin") as stream:
        assert stream.read() == data
    assert len(sent) == 6 and not any("substr" in sql for sql, _ in sent), sent
