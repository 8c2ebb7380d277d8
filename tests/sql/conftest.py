"""SQLBlob on each database: a fresh SQLite file, or a fresh table on the session's server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from remote_store.backends.sql import SQLBlobBackend
from tests.sql_support import Postgres

Factory = Callable[..., SQLBlobBackend]
DATABASES = [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=DATABASES)
def make_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    """``make(**options)``: an `SQLBlobBackend` on the parametrised database, each call on
    tables of its own; all closed after the test."""
    built: list[SQLBlobBackend] = []

    def make(**options: Any) -> SQLBlobBackend:
        table = f"t_{uuid.uuid4().hex[:12]}"
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / (table + '.db')}"
        else:
            server: Postgres = request.getfixturevalue("postgres")
            url = server.url()
        backend = SQLBlobBackend(url, table_name=table, **options)
        built.append(backend)
        return backend

    yield make
    for backend in built:
        backend.close()


def chunk_rows(backend: SQLBlobBackend) -> int:
    """Rows in the backend's chunks table: what a failed write must not leave behind."""
    engine = backend.unwrap(sa.Engine)
    table = backend._tables.chunks
    with engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


class StatementLog:
    """Counts the statements an engine sends (transaction control excluded)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.statements: list[str] = []
        sa.event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.split(None, 1)[0].upper() not in {"BEGIN", "COMMIT", "ROLLBACK"}:
            self.statements.append(statement.split(None, 1)[0].upper())

    def clear(self) -> None:
        self.statements.clear()

    def __len__(self) -> int:
        return len(self.statements)
