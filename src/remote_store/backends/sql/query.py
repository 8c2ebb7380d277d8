"""SQLQueryBackend: read-only files whose content is a SQL query's result, exported as
Parquet, CSV or Arrow IPC while it is read."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO, ClassVar, TypeVar, cast

import pyarrow as pa
import sqlalchemy as sa

from remote_store import paths
from remote_store.backend import Backend
from remote_store.backends.sql import adbc
from remote_store.backends.sql.arrowtypes import (
    Column,
    postgres_columns,
    sqlite_column,
    to_batch,
    value_does_not_fit,
)
from remote_store.backends.sql.clients import build_engine, portable_url
from remote_store.backends.sql.errors import translate
from remote_store.backends.sql.export import FORMATS, ExportStream
from remote_store.capabilities import Capability, CapabilitySet
from remote_store.config import Secret
from remote_store.errors import (
    CapabilityNotSupported,
    ConfigError,
    InvalidArgument,
    InvalidPath,
    IsAFolder,
    NotFound,
)
from remote_store.models import FileInfo, FolderEntry

T = TypeVar("T")

#: Rows fetched and encoded at a time.
DEFAULT_BATCH_ROWS = 65_536
_READ_BUFFER = 256 * 1024


class SQLQueryBackend(Backend):
    """Read-only: each key of *queries* (``sales/2026.parquet``) is a file whose content is
    its query's result, in the format its extension names (``.parquet``, ``.csv``,
    ``.arrow`` for the Arrow IPC file format).

    The query runs when the file is read, streamed and encoded a batch at a time: by the
    ADBC PostgreSQL driver when *driver* is ``"adbc"`` (or ``"auto"`` and
    ``adbc-driver-postgresql`` is installed), else from an SQLAlchemy server-side cursor,
    *batch_rows* rows at a time; column types come from the database (an empty result
    keeps its schema, ``NUMERIC(p, s)`` becomes ``decimal128(p, s)``). Listing shows the
    configured keys without running anything; `get_file_info` reports ``size=0``: the
    size is not known until the query has run.
    """

    name: ClassVar[str] = "sql-query"
    #: ``size`` is 0 until the query has run: fsspec and PyArrow report the size as unknown.
    file_sizes_known: ClassVar[bool] = False
    supported_capabilities: ClassVar[CapabilitySet] = CapabilitySet(
        {
            Capability.READ,
            Capability.LIST,
            Capability.METADATA,
            Capability.RECURSIVE_LIST,
            Capability.GLOB,
            Capability.SEEKABLE_READ,
        }
    )

    def __init__(
        self,
        url: str | Secret | None = None,
        *,
        engine: sa.Engine | None = None,
        password: str | Secret | None = None,
        queries: Mapping[str, str] | None = None,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        driver: str = "auto",
    ) -> None:
        if not isinstance(queries, Mapping) or not queries:
            raise ConfigError("queries must be a non-empty mapping of file name -> SQL query")
        if not isinstance(batch_rows, int) or isinstance(batch_rows, bool) or batch_rows < 1:
            raise InvalidArgument(f"batch_rows must be a positive int, got {batch_rows!r}")
        self._queries: dict[str, tuple[str, str]] = {}
        for name, query in queries.items():
            key = _file_key(name)
            suffix = "." + key.rsplit(".", 1)[-1].lower() if key and "." in key else ""
            if key is None or suffix not in FORMATS:
                raise ConfigError(f"query file {name!r} must end in .parquet, .csv or .arrow")
            if not isinstance(query, str) or not query.strip():
                raise ConfigError(f"the query of {name!r} must be a non-empty str")
            # A trailing ";" would end the cursor declaration or COPY the query is wrapped in.
            self._queries[key] = (FORMATS[suffix], query.strip().rstrip(";").rstrip())
        self._folders = {
            key[:i] for key in self._queries for i, char in enumerate(key) if char == "/"
        }
        self._engine, self._owns_engine = build_engine(url, engine, password)
        self._batch_rows = batch_rows
        self._query_options = dict(queries)
        self._driver = driver
        self._adbc = adbc.choose(driver, self._engine)

    def _rebuild_options(self) -> dict[str, Any]:
        return {
            "url": portable_url(self._engine, self._owns_engine, self.name),
            "queries": dict(self._query_options),
            "batch_rows": self._batch_rows,
            "driver": self._driver,
        }

    def __repr__(self) -> str:
        where = self._engine.url.render_as_string(hide_password=True)
        return f"SQLQueryBackend(url={where!r}, files={len(self._queries)})"

    # ------------------------------------------------------------------ files

    def _lookup(self, key: str) -> tuple[str, str]:
        found = self._queries.get(key)
        if found is not None:
            return found
        if key in self._folders:
            raise IsAFolder(f"{key!r} is a folder, not a file", path=key, backend=self.name)
        raise NotFound(f"file {key!r} does not exist", path=key, backend=self.name)

    def _info(self, key: str) -> FileInfo:
        return FileInfo(path=key, size=0)

    def _get_file_info(self, key: str) -> FileInfo:
        self._lookup(key)
        return self._info(key)

    def _is_file(self, key: str) -> bool:
        return key in self._queries

    def _read(self, key: str) -> BinaryIO:
        kind, query = self._lookup(key)
        columns, batches = self._run(key, query)
        schema = pa.schema([column.field for column in columns])
        stream = ExportStream(kind, schema, batches)
        return cast(BinaryIO, io.BufferedReader(stream, buffer_size=_READ_BUFFER))

    def _run(self, key: str, query: str) -> tuple[list[Any], Iterator[pa.RecordBatch]]:
        if self._adbc is not None:
            return adbc.run(self._adbc, self._engine, key, query)
        with translate("read", key):
            connection = self._engine.connect()
            try:
                columns = self._sqlite_columns(connection, query)
                options = {"stream_results": True, "yield_per": self._batch_rows}
                if self._engine.dialect.name == "postgresql":
                    # psycopg reads "%" as a placeholder once parameters (even none) are given.
                    query = query.replace("%", "%%")
                result = connection.execution_options(**options).exec_driver_sql(query)
                description = result.cursor.description
                if columns is None:
                    columns = postgres_columns(description)
            except BaseException:
                connection.close()
                raise
        return columns, self._batches(key, connection, result, columns)

    def _sqlite_columns(self, connection: sa.Connection, query: str) -> list[Column] | None:
        """SQLite's declared types of the query's columns, through a temporary view (its
        cursor describes names only)."""
        if self._engine.dialect.name != "sqlite":
            return None
        view = f"_remote_store_{uuid.uuid4().hex}"
        connection.exec_driver_sql(f'CREATE TEMP VIEW "{view}" AS {query}')
        try:
            info = connection.exec_driver_sql(f'PRAGMA table_info("{view}")').all()
        finally:
            connection.exec_driver_sql(f'DROP VIEW "{view}"')
        return [sqlite_column(row[1], row[2] or "") for row in info]

    def _batches(
        self, key: str, connection: sa.Connection, result: Any, columns: list[Column]
    ) -> Iterator[pa.RecordBatch]:
        schema = pa.schema([column.field for column in columns])
        try:
            with translate("read", key):
                for rows in result.partitions(self._batch_rows):
                    try:
                        yield to_batch(columns, schema, rows)
                    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError) as error:
                        raise value_does_not_fit(key, error) from None
        finally:
            connection.close()

    # ------------------------------------------------------------------ folders

    def _is_folder(self, key: str) -> bool:
        return key in self._folders

    def _iter_children(self, key: str) -> Iterator[FileInfo | FolderEntry]:
        prefix = f"{key}/" if key else ""
        entries: dict[str, FileInfo | FolderEntry] = {}
        for name in self._queries:
            if not name.startswith(prefix):
                continue
            head, slash, _ = name[len(prefix) :].partition("/")
            child = prefix + head
            entries.setdefault(child, FolderEntry(child) if slash else self._info(child))
        yield from (entries[name] for name in sorted(entries))

    # ------------------------------------------------------------------ lifecycle, names

    def _native_path(self, key: str) -> str:
        return f"sql-query:{key}"

    def _to_key(self, native_path: str) -> str:
        return native_path.removeprefix("sql-query:")

    def _unwrap(self, type_hint: type[T]) -> T:
        if isinstance(self._engine, type_hint):
            return self._engine
        raise CapabilityNotSupported(f"unwrap to {type_hint.__name__}", backend=self.name)

    def _ping(self) -> None:
        with translate("ping"), self._engine.connect() as connection:
            connection.execute(sa.select(sa.literal(1)))

    def _close(self) -> None:
        if self._owns_engine:
            self._engine.dispose()


def _file_key(name: object) -> str | None:
    if not isinstance(name, str):
        return None
    try:
        return paths.normalize(name, allow_root=False)
    except InvalidPath:
        return None


__all__ = ["SQLQueryBackend"]
