"""After a retry: was the conflict with our own first attempt? What to compare on Azure.

`remote_store.transfer.reconcile.landed` decides whether to look at all (only when the
call retried a request that may have landed, see REL-007); here is what one HEAD compares:

* a write is ours when the blob has the size, Content-MD5 and metadata we sent (the MD5 is
  computed while the content streams out, so it identifies the bytes);
* a copy is ours when the target's copy source is our source, its copy succeeded, and its
  size and MD5 are the source's;
* a rename is ours when the source is gone and the target carries the source's ETag (an
  HNS rename keeps it).

The one ambiguity left: another writer who stored byte-identical content with identical
metadata in the same instant is taken for our own attempt, so the call succeeds and the
blob holds exactly what the caller asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobClient, BlobProperties

from remote_store.backends.azure import errors as azerr
from remote_store.backends.azure.errors import translate
from remote_store.transfer.reconcile import landed

log = logging.getLogger("remote_store.azure")


def _head(blob: BlobClient, op: str, key: str) -> BlobProperties | None:
    with translate(op, key):
        try:
            return blob.get_blob_properties()
        except HttpResponseError as exc:
            if azerr.is_missing(exc):
                return None
            raise


def _md5(props: BlobProperties) -> bytes:
    settings = props.content_settings
    return bytes(settings.content_md5 or b"") if settings is not None else b""


def _folded(metadata: Mapping[str, str] | None) -> dict[str, str]:
    return {k.lower(): v for k, v in (metadata or {}).items()}


def landed_write(
    blob: BlobClient, key: str, md5: bytes, size: int, metadata: Mapping[str, str] | None
) -> dict[str, Any] | None:
    """The commit response our own earlier attempt would have had, or ``None`` when the
    conflict is real (or no retry of this call may have landed)."""

    def ours() -> dict[str, Any] | None:
        props = _head(blob, "write", key)
        if props is None or props.size != size or _md5(props) != bytes(md5):
            return None
        if _folded(props.metadata) != _folded(metadata):
            return None
        return {
            "etag": props.etag,
            "last_modified": props.last_modified,
            "version_id": getattr(props, "version_id", None),
        }

    return landed(ours, f"write {key!r}", log)


def landed_copy(target: BlobClient, dst: str, source: BlobProperties, source_url: str) -> bool:
    """Whether *target* is the finished copy of *source* that our retried Copy Blob made."""

    def ours() -> bool:
        props = _head(target, "copy", dst)
        if props is None or props.copy is None:
            return False
        copied_from = (props.copy.source or "").split("?", 1)[0]
        return (
            copied_from == source_url.split("?", 1)[0]
            and props.copy.status == "success"
            and props.size == source.size
            and _md5(props) == _md5(source)
        )

    return bool(landed(ours, f"copy {dst!r}", log))


def landed_rename(
    source_blob: BlobClient, target: BlobClient, dst: str, source: BlobProperties
) -> bool:
    """Whether our retried rename of the file *source* describes to *dst* already happened."""

    def ours() -> bool:
        if _head(source_blob, "move", dst) is not None:
            return False
        moved = _head(target, "move", dst)
        return moved is not None and moved.etag == source.etag

    return bool(landed(ours, f"move {dst!r}", log))
