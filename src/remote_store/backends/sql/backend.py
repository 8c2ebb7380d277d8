"""SQLBlobBackend: files stored in a relational database (SQLite or PostgreSQL) through
SQLAlchemy 2 Core, on the object-store core."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, BinaryIO, ClassVar, TypeVar, cast

import sqlalchemy as sa

from remote_store.backends.sql.clients import Transactions, build_engine, portable_url, prepare
from remote_store.backends.sql.errors import translate
from remote_store.backends.sql.reader import ChunkReader
from remote_store.backends.sql.retry import DEFAULT_RETRY, Attempts, CommitFailed, call_scope
from remote_store.backends.sql.schema import Tables, upper_bound
from remote_store.backends.sql.upload import (
    ChunkedPut,
    Version,
    check_namespace,
    link,
    new_version_id,
    now_us,
    to_datetime,
)
from remote_store.capabilities import Capability, CapabilitySet
from remote_store.config import RetryPolicy, Secret
from remote_store.errors import (
    AlreadyExists,
    CapabilityNotSupported,
    InvalidArgument,
    NotFound,
    PreconditionFailed,
    RemoteStoreError,
)
from remote_store.frozen import FrozenMap
from remote_store.models import ContentDigest, WriteResult
from remote_store.objectstore import (
    OBJECT_STORE_CAPABILITIES,
    ListPage,
    ObjectMeta,
    ObjectStoreBackend,
    PutStream,
    SpooledPut,
)
from remote_store.streams import WritableContent, iter_chunks, rewinder

T = TypeVar("T")

#: Bytes per stored chunk unless ``chunk_size=`` says otherwise.
DEFAULT_CHUNK_SIZE = 1024 * 1024
_MIN_CHUNK, _MAX_CHUNK = 4 * 1024, 64 * 1024 * 1024
#: Rows one listing statement returns.
PAGE_SIZE = 1000
# Read buffer over the chunk reader: `read(n)` returns n bytes, not a chunk's remainder.
_READ_BUFFER = 64 * 1024


class SQLBlobBackend(ObjectStoreBackend):
    """Files in two tables of an SQLite or PostgreSQL database.

    *url* is an SQLAlchemy URL (``sqlite:///files.db``,
    ``postgresql+psycopg://user@host:5432/db``; a `Secret` when it holds a password), or
    pass an *engine* you built. *password* (a `Secret` from configuration) replaces the
    URL's, so the URL can stay free of credentials. The tables ``<table_name>`` and
    ``<table_name>_chunks`` are created unless ``create_table=False``. Content is stored
    in chunks of *chunk_size* bytes, so a write or a read holds a few chunks, whatever the
    file size. Every write, copy and move is one transaction (``ATOMIC_MOVE``); write
    conditions are decided by the database. A transaction the database undid (a lost
    connection, a deadlock, a busy SQLite file) is run again as *retry* allows.
    """

    name: ClassVar[str] = "sql-blob"
    supported_capabilities: ClassVar[CapabilitySet] = CapabilitySet(
        OBJECT_STORE_CAPABILITIES | {Capability.ATOMIC_MOVE}
    )
    delete_batch_size: ClassVar[int] = 500

    def __init__(
        self,
        url: str | Secret | None = None,
        *,
        engine: sa.Engine | None = None,
        password: str | Secret | None = None,
        table_name: str = "remote_store_objects",
        schema: str | None = None,
        create_table: bool = True,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        retry: RetryPolicy | Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(chunk_size, int) or not _MIN_CHUNK <= chunk_size <= _MAX_CHUNK:
            raise InvalidArgument(
                f"chunk_size must be an int from {_MIN_CHUNK} to {_MAX_CHUNK}, got {chunk_size!r}"
            )
        if not isinstance(create_table, bool):
            raise InvalidArgument("create_table must be a bool")
        self._tables = Tables(table_name, schema)
        self._engine, self._owns_engine = build_engine(url, engine, password)
        prepare(self._engine)
        self._tx = Transactions(self._engine)
        self._retry = RetryPolicy.from_option(retry, DEFAULT_RETRY)
        self._attempts = Attempts(self._tx, self._retry)
        self._chunk_size = chunk_size
        self._table_name = table_name
        self._create_table = create_table
        if create_table:
            with translate("create tables"):
                self._tables.create(self._engine)

    def _call_scope(self) -> AbstractContextManager[object]:
        # One deadline per public call: every transaction it runs, retries included, shares it.
        return call_scope(self._retry)

    def _rebuild_options(self) -> dict[str, Any]:
        return {
            "url": portable_url(self._engine, self._owns_engine, self.name),
            "table_name": self._table_name,
            "schema": self._tables.metadata.schema,
            "create_table": self._create_table,
            "chunk_size": self._chunk_size,
            "retry": self._retry,
        }

    def __repr__(self) -> str:
        # The engine's URL with its password masked: never the credential.
        where = self._engine.url.render_as_string(hide_password=True)
        return f"SQLBlobBackend(url={where!r}, table={self._table_name!r})"

    # ------------------------------------------------------------------ rows

    def _meta(self, row: Any) -> ObjectMeta:
        return ObjectMeta(
            key=row.key,
            size=row.size,
            etag=row.version,
            modified=to_datetime(row.modified_us),
            digest=ContentDigest("md5", row.md5),
            metadata=FrozenMap(dict(row.metadata or {})),
            native=row,
        )

    def _columns(self) -> list[sa.Column[Any]]:
        o = self._tables.objects
        return [o.c.key, o.c.version, o.c.size, o.c.md5, o.c.chunk_size, o.c.modified_us,
                o.c.metadata]  # fmt: skip

    # ------------------------------------------------------------------ primitives

    def _head_object(self, key: str) -> ObjectMeta | None:
        query = sa.select(*self._columns()).where(self._tables.objects.c.key == key)
        row = self._attempts.run("head", key, lambda c: c.execute(query).first(), write=False)
        return None if row is None else self._meta(row)

    def _list_page(
        self, prefix: str, *, delimiter: bool, token: str | None, limit: int | None
    ) -> ListPage:
        objects = self._tables.objects
        size = PAGE_SIZE if limit is None else min(limit, PAGE_SIZE)
        conditions = []
        if token is None:
            if prefix:
                conditions.append(objects.c.key >= prefix)
        elif token[0] == ">":
            conditions.append(objects.c.key > token[1:])
        else:
            conditions.append(objects.c.key >= token[1:])
        upper = upper_bound(prefix)
        if upper is not None:
            conditions.append(objects.c.key < upper)
        query = sa.select(*self._columns()).where(*conditions).order_by(objects.c.key).limit(size)
        where = prefix.rstrip("/")
        rows = self._attempts.run("list", where, lambda c: c.execute(query).all(), write=False)
        found: list[ObjectMeta] = []
        prefixes: list[str] = []
        next_token = None
        for row in rows:
            rest = row.key[len(prefix) :]
            slash = rest.find("/") if delimiter else -1
            if slash == -1:
                found.append(self._meta(row))
                next_token = ">" + row.key
            else:
                folder = prefix + rest[: slash + 1]
                if not prefixes or prefixes[-1] != folder:
                    prefixes.append(folder)
                # The next page starts past this folder's whole subtree.
                next_token = "=" + cast(str, upper_bound(folder))
        more = limit is None and len(rows) == size
        return ListPage(found, prefixes, next_token if more else None)

    def _put_object(
        self,
        key: str,
        content: WritableContent,
        *,
        create_only: bool,
        if_match: str | None,
        metadata: Mapping[str, str] | None,
    ) -> WriteResult:

        def put() -> WriteResult:
            stream = self._chunked_put(key, create_only, if_match, metadata)
            try:
                for piece in iter_chunks(content, self._chunk_size):
                    stream.write(piece)
            except BaseException:
                stream.discard()
                raise
            try:
                return stream.commit()
            except RemoteStoreError as error:
                if stream.commit_sent:
                    raise CommitFailed(error) from error
                raise

        return self._attempts.replay("write", key, put, rewind=rewinder(content))

    def _open_put(
        self,
        key: str,
        *,
        create_only: bool,
        if_match: str | None,
        metadata: Mapping[str, str] | None,
    ) -> PutStream:
        if self._tx.dialect == "sqlite":
            # SQLite has one writer: a transaction held open across the caller's block would
            # stall every other write, even a second `open_atomic` in the same block. Spool
            # (memory up to SPOOL_LIMIT, then a temporary file), then one streamed put.
            return SpooledPut(
                self._put_object, key, create_only=create_only, if_match=if_match, metadata=metadata
            )
        return self._chunked_put(key, create_only, if_match, metadata)

    def _chunked_put(
        self,
        key: str,
        create_only: bool,
        if_match: str | None,
        metadata: Mapping[str, str] | None,
    ) -> ChunkedPut:
        return ChunkedPut(
            self._tx,
            self._tables,
            key,
            chunk_size=self._chunk_size,
            create_only=create_only,
            if_match=if_match,
            metadata=metadata,
        )

    def _delete_object(self, key: str, *, if_match: str | None) -> bool:
        objects, chunks = self._tables.objects, self._tables.chunks
        condition = [objects.c.key == key]
        if if_match is not None:
            condition.append(objects.c.version == if_match)
        statement = sa.delete(objects).where(*condition).returning(objects.c.version)

        def delete(connection: sa.Connection) -> str | None:
            version = connection.execute(statement).scalar_one_or_none()
            if version is not None:
                connection.execute(sa.delete(chunks).where(chunks.c.version == version))
            return cast("str | None", version)

        version = self._attempts.run("delete", key, delete, write=True)
        if version is None and if_match is not None:
            raise PreconditionFailed(f"{key!r} changed: expected etag {if_match!r}", path=key)
        return version is not None

    def _get_object(self, key: str, *, seekable: bool) -> BinaryIO:
        objects, chunks = self._tables.objects, self._tables.chunks
        if seekable:  # the row alone: a random reader fetches only the chunks it reads
            query = sa.select(*self._columns(), sa.null().label("data"))
        else:  # chunk 0 comes with the row: a sequential read starts in one statement
            first = sa.outerjoin(
                objects, chunks, sa.and_(chunks.c.version == objects.c.version, chunks.c.seq == 0)
            )
            query = sa.select(*self._columns(), chunks.c.data).select_from(first)
        query = query.where(objects.c.key == key)
        row = self._attempts.run("read", key, lambda c: c.execute(query).first(), write=False)
        if row is None:
            raise NotFound(f"file {key!r} does not exist", path=key)
        raw = ChunkReader(
            self._attempts,
            self._tables,
            key,
            version=row.version,
            size=row.size,
            chunk_size=row.chunk_size,
            first=None if row.data is None else bytes(row.data),
            seekable=seekable,
        )
        return cast(BinaryIO, io.BufferedReader(raw, buffer_size=_READ_BUFFER))

    # ------------------------------------------------------------------ optional primitives

    def _get_bytes(self, key: str) -> bytes:
        with self._get_object(key, seekable=False) as stream:
            return stream.read()

    def _delete_objects(self, keys: Sequence[str]) -> None:
        objects, chunks = self._tables.objects, self._tables.chunks
        statement = sa.delete(objects).where(objects.c.key.in_(keys)).returning(objects.c.version)

        def delete(connection: sa.Connection) -> None:
            versions = connection.execute(statement).scalars().all()
            if versions:
                connection.execute(sa.delete(chunks).where(chunks.c.version.in_(versions)))

        self._attempts.run("delete", None, delete, write=True)

    def _copy_object(self, source: ObjectMeta, dst: str, *, create_only: bool) -> None:
        objects, chunks = self._tables.objects, self._tables.chunks
        pinned = (
            sa.select(*self._columns())
            .where(objects.c.key == source.key, objects.c.version == source.etag)
            .with_for_update(read=True)  # FOR SHARE: the source cannot change until we commit
        )
        version = new_version_id()

        def copy(connection: sa.Connection) -> None:
            row = connection.execute(pinned).first()
            if row is None:
                raise PreconditionFailed(f"{source.key!r} changed while copied", path=source.key)
            check_namespace(connection, self._tables, dst)
            copied = sa.select(sa.literal(version), chunks.c.seq, chunks.c.data).where(
                chunks.c.version == row.version
            )
            connection.execute(sa.insert(chunks).from_select(["version", "seq", "data"], copied))
            stored = Version(
                version, row.size, row.md5, row.chunk_size, now_us(), row.metadata or {}
            )
            link(connection, self._tables, dst, stored, create_only=create_only, if_match=None)

        self._attempts.run("copy", dst, copy, write=True)

    # ------------------------------------------------------------------ faster hooks

    def _move(self, src: str, dst: str, *, overwrite: bool, if_match: str | None) -> None:
        """One transaction: the row is renamed (its chunks stay), so the file keeps its
        etag and modification time; a file replaced at *dst* is dropped with its chunks."""
        for _ in range(3):
            try:
                if self._move_once(src, dst, overwrite=overwrite, if_match=if_match):
                    return
                raise self._missing(src)
            except AlreadyExists:
                # With overwrite, a concurrent move that created *dst* after we looked: again.
                if not overwrite:
                    raise
        raise PreconditionFailed(f"move {src!r}: {dst!r} kept changing", path=dst)

    def _move_once(self, src: str, dst: str, *, overwrite: bool, if_match: str | None) -> bool:
        objects, chunks = self._tables.objects, self._tables.chunks

        def move(connection: sa.Connection) -> bool:
            current = connection.execute(
                sa.select(objects.c.version).where(objects.c.key == src)
            ).scalar_one_or_none()
            if current is None:
                return False
            if if_match is not None and current != if_match:
                raise PreconditionFailed(
                    f"{src!r} changed: etag {current!r}, expected {if_match!r}", path=src
                )
            check_namespace(connection, self._tables, dst)
            replaced = connection.execute(
                sa.delete(objects).where(objects.c.key == dst).returning(objects.c.version)
            ).scalar_one_or_none()
            if replaced is not None:
                if not overwrite:
                    raise AlreadyExists(f"{dst!r} already exists", path=dst)
                connection.execute(sa.delete(chunks).where(chunks.c.version == replaced))
            renamed = connection.execute(
                sa.update(objects)
                .where(objects.c.key == src, objects.c.version == current)
                .values(key=dst)
                .returning(objects.c.key)
            ).first()
            if renamed is None:
                raise PreconditionFailed(f"{src!r} changed while moved", path=src)
            return True

        return self._attempts.run("move", src, move, write=True)

    # ------------------------------------------------------------------ lifecycle, names

    def _native_path(self, key: str) -> str:
        return f"sql-blob:{self._table_name}/{key}"

    def _to_key(self, native_path: str) -> str:
        """The key of ``sql-blob:<table>/<key>``; a plain key is accepted as is."""
        return native_path.removeprefix(f"sql-blob:{self._table_name}/")

    def _unwrap(self, type_hint: type[T]) -> T:
        if isinstance(self._engine, type_hint):
            return self._engine
        raise CapabilityNotSupported(f"unwrap to {type_hint.__name__}", backend=self.name)

    def _ping(self) -> None:
        self._attempts.run("ping", None, lambda c: c.execute(sa.select(sa.literal(1))), write=False)

    def _close(self) -> None:
        if self._owns_engine:
            self._engine.dispose()
