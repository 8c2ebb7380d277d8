"""Writing a file: its chunks, then the one statement that makes the new version visible.

A write is one transaction. The content is cut into chunks as it arrives and each chunk is
inserted under a fresh version id, so at most one chunk is held (bounded memory, whatever
the file size); then the file's row is made to point at the version, under the write's
condition, and the replaced version's chunks are deleted. A failure anywhere (a refused
condition, the source stream raising, the connection dropping) rolls the whole transaction
back: nothing half-written is ever visible, and no chunk is left behind.
"""

from __future__ import annotations

import hashlib
import io
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from remote_store.backends.sql.clients import Transaction, Transactions
from remote_store.backends.sql.errors import translate
from remote_store.backends.sql.schema import Tables, insert_if_absent, upper_bound
from remote_store.errors import AlreadyExists, IsAFolder, NotAFolder, PreconditionFailed
from remote_store.frozen import FrozenMap
from remote_store.models import ContentDigest, WriteResult, WriteSource


@dataclass(frozen=True)
class Version:
    """A stored version, ready to be pointed at by a file's row."""

    version: str
    size: int
    md5: str
    chunk_size: int
    modified_us: int
    metadata: Mapping[str, str]

    def row(self, key: str) -> dict[str, Any]:
        return {
            "key": key,
            "version": self.version,
            "size": self.size,
            "md5": self.md5,
            "chunk_size": self.chunk_size,
            "modified_us": self.modified_us,
            "metadata": dict(self.metadata),
        }


def now_us() -> int:
    return time.time_ns() // 1000


def to_datetime(modified_us: int) -> datetime:
    return datetime.fromtimestamp(modified_us / 1_000_000, UTC)


def new_version_id() -> str:
    return uuid.uuid4().hex


def check_namespace(connection: sa.Connection, tables: Tables, key: str) -> None:
    """Refuse a write below a file (`NotAFolder`) or over a folder (`IsAFolder`): one
    statement, in the write's own transaction."""
    objects = tables.objects
    ancestors = [key[:i] for i, char in enumerate(key) if char == "/"]
    prefix = key + "/"
    below = sa.and_(objects.c.key > prefix, objects.c.key < upper_bound(prefix))
    condition = sa.or_(objects.c.key.in_(ancestors), below) if ancestors else below
    found = connection.execute(
        sa.select(objects.c.key).where(condition).order_by(objects.c.key).limit(1)
    ).scalar_one_or_none()
    if found is None:
        return
    if found in ancestors:
        raise NotAFolder(f"cannot write {key!r}: {found!r} is a file", path=key)
    raise IsAFolder(f"cannot write {key!r}: it is a folder", path=key)


def link(
    connection: sa.Connection,
    tables: Tables,
    key: str,
    version: Version,
    *,
    create_only: bool,
    if_match: str | None,
) -> None:
    """Point *key* at *version* under the write's condition, and drop what it replaced."""
    objects, row = tables.objects, version.row(key)
    if create_only:
        statement = insert_if_absent(connection.dialect.name, objects, row)
        if connection.execute(statement).first() is None:
            raise AlreadyExists(f"{key!r} already exists", path=key)
        return
    if if_match is not None:
        if not _swap(connection, tables, key, if_match, row):
            raise PreconditionFailed(f"{key!r} changed: expected etag {if_match!r}", path=key)
        return
    # An upsert that learns what it replaced: update the version seen, or insert if there is
    # none; a concurrent writer in between makes one of them match nothing, and we look again.
    # Never `AlreadyExists`: two first writes both land, one after the other.
    while True:
        current = connection.execute(
            sa.select(objects.c.version).where(objects.c.key == key)
        ).scalar_one_or_none()
        if current is not None:
            if _swap(connection, tables, key, current, row):
                return
        elif connection.execute(insert_if_absent(connection.dialect.name, objects, row)).first():
            return


def _swap(
    connection: sa.Connection, tables: Tables, key: str, old: str, row: dict[str, Any]
) -> bool:
    objects, chunks = tables.objects, tables.chunks
    statement = (
        sa.update(objects)
        .where(objects.c.key == key, objects.c.version == old)
        .values(**row)
        .returning(objects.c.key)
    )
    if connection.execute(statement).first() is None:
        return False
    connection.execute(sa.delete(chunks).where(chunks.c.version == old))
    return True


class ChunkedPut(io.RawIOBase):
    """A `PutStream`: the writes of one version of *key*, inserted a chunk at a time in one
    transaction; `commit` links it under the condition, `discard` rolls everything back."""

    def __init__(
        self,
        transactions: Transactions,
        tables: Tables,
        key: str,
        *,
        chunk_size: int,
        create_only: bool,
        if_match: str | None,
        metadata: Mapping[str, str] | None,
    ) -> None:
        super().__init__()
        self._tables = tables
        self._key = key
        self._chunk_size = chunk_size
        self._create_only = create_only
        self._if_match = if_match
        self._metadata = metadata
        self._version = new_version_id()
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._buffer = bytearray()
        self._size = 0
        self._seq = 0
        self._transaction: Transaction | None = None
        #: Whether COMMIT was sent: a failure after it may have landed.
        self.commit_sent = False
        with translate("write", key):
            self._transaction = transactions.open(write=True)
            try:
                check_namespace(self._transaction.connection, tables, key)
            except BaseException:
                self.discard()
                raise

    def writable(self) -> bool:
        return True

    def write(self, data: Any, /) -> int:
        if self._transaction is None:
            raise ValueError("I/O operation on closed file")
        view = memoryview(data).cast("B")
        written = len(view)
        while view:
            take = min(self._chunk_size - len(self._buffer), len(view))
            self._buffer += view[:take]
            view = view[take:]
            if len(self._buffer) == self._chunk_size:
                self._flush()
        return written

    def _flush(self) -> None:
        assert self._transaction is not None
        chunk = bytes(self._buffer)
        self._buffer.clear()
        self._md5.update(chunk)
        statement = sa.insert(self._tables.chunks).values(
            version=self._version, seq=self._seq, data=chunk
        )
        try:
            with translate("write", self._key):
                self._transaction.connection.execute(statement)
        except BaseException:
            self.discard()
            raise
        self._size += len(chunk)
        self._seq += 1

    def close(self) -> None:
        pass  # closing inside the ``with`` block is harmless: the commit happens on exit

    def commit(self) -> WriteResult:
        if self._transaction is None:
            raise ValueError("I/O operation on closed file")
        if self._buffer:
            self._flush()
        frozen = FrozenMap(dict(self._metadata or {}))
        version = Version(
            self._version, self._size, self._md5.hexdigest(), self._chunk_size, now_us(), frozen
        )
        transaction = self._transaction
        try:
            with translate("write", self._key):
                link(
                    transaction.connection,
                    self._tables,
                    self._key,
                    version,
                    create_only=self._create_only,
                    if_match=self._if_match,
                )
                self._transaction = None
                self.commit_sent = True
                transaction.commit()
        except BaseException:
            self.discard()
            raise
        super().close()
        return WriteResult(
            path=self._key,
            size=version.size,
            source=WriteSource.NATIVE,
            etag=version.version,
            last_modified=to_datetime(version.modified_us),
            digest=ContentDigest("md5", version.md5),
            metadata=None if self._metadata is None else frozen,
        )

    def discard(self) -> None:
        transaction, self._transaction = self._transaction, None
        self._buffer = bytearray()
        if transaction is not None:
            transaction.rollback()
        super().close()
