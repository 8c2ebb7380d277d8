"""The primitives a flat key-value service supplies to the object-store core: five
required (head, one listing page, conditional put, delete, get) and a few optional ones
with working defaults (batch delete, server-side copy, streamed put, bytes)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import BinaryIO, ClassVar

from remote_store.models import WriteResult
from remote_store.objectstore.model import ListPage, ObjectMeta
from remote_store.objectstore.putstream import PutStream, SpooledPut
from remote_store.streams import WritableContent


class Primitives(ABC):
    """What an object store implements. Override an optional primitive where the service
    does better (a batch delete, a server-side copy, a streamed upload)."""

    #: Keys one `_delete_objects` call takes (S3: 1,000; Azure blob batch: 256).
    delete_batch_size: ClassVar[int] = 1000

    # ================================================================== required primitives

    @abstractmethod
    def _head_object(self, key: str) -> ObjectMeta | None:
        """The object at *key*, or ``None`` when there is none."""

    @abstractmethod
    def _list_page(
        self, prefix: str, *, delimiter: bool, token: str | None, limit: int | None
    ) -> ListPage:
        """One page of the objects whose key starts with *prefix* (from *token*, at most
        *limit* entries when given); with *delimiter*, deeper keys fold into prefixes."""

    @abstractmethod
    def _put_object(
        self,
        key: str,
        content: WritableContent,
        *,
        create_only: bool,
        if_match: str | None,
        metadata: Mapping[str, str] | None,
    ) -> WriteResult:
        """Store *content* at *key* in one visible step. *create_only*: `AlreadyExists` if
        an object is there; *if_match*: `PreconditionFailed` (or `NotFound`) unless the
        object there has that etag. Decided by the service, atomically."""

    @abstractmethod
    def _delete_object(self, key: str, *, if_match: str | None) -> bool:
        """Delete the object at *key* (if its etag is *if_match*, when given, else
        `PreconditionFailed`); whether there was one (or raise `NotFound`)."""

    @abstractmethod
    def _get_object(self, key: str, *, seekable: bool) -> BinaryIO:
        """A stream over the object at *key*; `NotFound` when there is none. A seekable
        one reads ranges; every range after the first is pinned to the first etag."""

    # ================================================================== optional primitives

    def _get_bytes(self, key: str) -> bytes:
        """The whole object at *key*; `NotFound` when there is none."""
        with self._get_object(key, seekable=False) as stream:
            return stream.read()

    def _delete_objects(self, keys: Sequence[str]) -> None:
        """Delete up to `delete_batch_size` objects; absent ones are fine."""
        for key in keys:
            self._delete_object(key, if_match=None)

    def _delete_version(self, key: str, etag: str | None) -> None:
        """Delete the object at *key* if its etag is *etag*, else `PreconditionFailed`; a
        missing object is no error. For a store whose delete cannot say whether there was
        an object without another request (the move does not need to know). Default:
        `_delete_object` with *etag* as ``if_match`` (no etag: unconditional)."""
        self._delete_object(key, if_match=etag)

    def _copy_object(self, source: ObjectMeta, dst: str, *, create_only: bool) -> None:
        """Copy the object *source* describes to *dst*, with its metadata, pinned to its
        etag. Default: streamed through this process."""
        with self._get_object(source.key, seekable=False) as stream:
            self._put_object(
                dst, stream, create_only=create_only, if_match=None, metadata=source.metadata
            )

    def _open_put(
        self,
        key: str,
        *,
        create_only: bool,
        if_match: str | None,
        metadata: Mapping[str, str] | None,
    ) -> PutStream:
        """A stream whose content lands at *key* when committed. Default: spooled, then
        one `_put_object`."""
        return SpooledPut(
            self._put_object, key, create_only=create_only, if_match=if_match, metadata=metadata
        )
