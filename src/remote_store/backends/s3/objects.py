"""The object-store primitives over S3: HeadObject, ListObjectsV2, PutObject (or a
multipart upload) with ``If-None-Match``/``If-Match``, DeleteObject, DeleteObjects,
CopyObject pinned with ``CopySourceIfMatch`` (a multipart copy completed with
``If-None-Match: *`` when create-only), and ranged GetObject. The object-store core
(`remote_store.objectstore`) builds the whole contract from them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO, ClassVar, cast

from botocore.exceptions import ClientError

from remote_store.backends.s3.digest import stored
from remote_store.backends.s3.errors import BACKEND, for_code, is_missing, translate
from remote_store.backends.s3.model import (
    MAX_PART_SIZE,
    Settings,
    check_metadata,
    head_meta,
    listed_meta,
    normalize_etag,
    quoted,
)
from remote_store.backends.s3.reader import S3Range, S3Reader
from remote_store.backends.s3.retry import Requests
from remote_store.backends.s3.upload import S3Uploader, multipart_etag, upload
from remote_store.errors import InvalidArgument, NotFound, PreconditionFailed
from remote_store.models import WriteResult
from remote_store.objectstore import ListPage, ObjectMeta, ObjectStore, PutStream
from remote_store.streams import WritableContent
from remote_store.transfer.reconcile import landed
from remote_store.transfer.uploader import AtomicWriter

log = logging.getLogger("remote_store.s3")

#: The part size of a server-side multipart copy: no bytes pass through this process, so
#: large parts cost nothing but fewer requests.
COPY_PART_SIZE = 512 * 1024 * 1024


class S3Objects(ObjectStore):
    """S3 as an object store: the primitives of `remote_store.objectstore`. The backend
    sets ``_requests``, ``_bucket`` and ``_settings``."""

    name: ClassVar[str] = BACKEND
    delete_batch_size: ClassVar[int] = 1000

    _requests: Requests
    _bucket: str
    _settings: Settings

    # ------------------------------------------------------------------ required primitives

    def _head_object(self, key: str) -> ObjectMeta | None:
        with translate("head", key):
            try:
                head = self._requests.raw("head_object", Bucket=self._bucket, Key=key)
            except ClientError as error:
                if is_missing(error):
                    return None
                raise
        return head_meta(key, head)

    def _list_page(
        self, prefix: str, *, delimiter: bool, token: str | None, limit: int | None
    ) -> ListPage:
        params: dict[str, Any] = {"Bucket": self._bucket, "Prefix": prefix}
        if delimiter:
            params["Delimiter"] = "/"
        if token is not None:
            params["ContinuationToken"] = token
        if limit is not None:
            params["MaxKeys"] = limit
        page = self._requests("list_objects_v2", "list", prefix.rstrip("/"), **params)
        objects = [listed_meta(item) for item in page.get("Contents", ())]
        prefixes = [str(item["Prefix"]) for item in page.get("CommonPrefixes", ())]
        following = page.get("NextContinuationToken") if page.get("IsTruncated") else None
        return ListPage(objects, prefixes, following)

    def _put_object(
        self,
        key: str,
        content: WritableContent,
        *,
        create_only: bool,
        if_match: str | None,
        metadata: Mapping[str, str] | None,
    ) -> WriteResult:
        checked = check_metadata(metadata)
        return upload(
            self._requests,
            self._bucket,
            key,
            content,
            self._settings,
            create_only=create_only,
            if_match=if_match,
            metadata=checked,
        )

    def _delete_object(self, key: str, *, if_match: str | None) -> bool:
        # S3 answers 204 whether or not the key was there (and MiniStack even with If-Match):
        # one HEAD says whether there is a file to delete.
        current = self._head_object(key)
        if current is None:
            return False
        if if_match is not None and current.etag != if_match:
            raise PreconditionFailed(
                f"delete {key!r}: etag {current.etag!r}, expected {if_match!r}",
                path=key,
                backend=BACKEND,
            )
        condition: dict[str, Any] = {} if if_match is None else {"IfMatch": quoted(if_match)}
        try:
            self._requests(
                "delete_object", "delete", key, Bucket=self._bucket, Key=key, **condition
            )
        except (NotFound, PreconditionFailed):
            # A retried delete may have met its own first attempt: the file is gone.
            if landed(lambda: self._head_object(key) is None, f"delete {key!r}", log):
                return True
            raise
        return True

    def _delete_version(self, key: str, etag: str | None) -> None:
        # The move's delete: one DeleteObject with If-Match, no HEAD (it need not learn
        # whether the key was there). A mismatch is PreconditionFailed (a newer source is
        # kept); a missing key (404 on AWS and moto, 204 on MiniStack) is done: deleted by
        # a retried first attempt or by someone else (OBJ-009).
        if etag is None:
            self._delete_object(key, if_match=None)
            return
        with contextlib.suppress(NotFound):
            self._requests(
                "delete_object", "delete", key, Bucket=self._bucket, Key=key, IfMatch=quoted(etag)
            )

    def _get_object(self, key: str, *, seekable: bool) -> BinaryIO:
        return self._s3_reader(key, seekable=seekable)

    def _s3_reader(self, key: str, *, seekable: bool) -> BinaryIO:
        """The ranged reader over *key*, every range after the first pinned to its ETag."""
        op = "read_seekable" if seekable else "read"
        source = S3Range(self._requests, self._bucket, key, op)
        reader = S3Reader(
            source,
            chunk_size=self._settings.chunk_get_size,
            seekable=seekable,
            max_concurrency=self._settings.max_concurrency,
            requests=self._requests,
        )
        return cast(BinaryIO, reader)

    # ------------------------------------------------------------------ optional primitives

    def _open_put(
        self,
        key: str,
        *,
        create_only: bool,
        if_match: str | None,
        metadata: Mapping[str, str] | None,
    ) -> PutStream:
        parts = S3Uploader(
            self._requests,
            self._bucket,
            key,
            self._settings,
            create_only=create_only,
            if_match=if_match,
            metadata=check_metadata(metadata),
        )
        return AtomicWriter(parts)

    def _delete_objects(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        where = keys[0].rpartition("/")[0]
        answer = self._requests(
            "delete_objects",
            "delete_folder",
            where,
            Bucket=self._bucket,
            Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True},
        )
        failed = [e for e in answer.get("Errors", ()) if e.get("Code") not in ("NoSuchKey",)]
        if failed:
            first = failed[0]
            more = f" and {len(failed) - 1} other key(s)" if len(failed) > 1 else ""
            raise for_code(
                first.get("Code"), None, f"delete {first.get('Key')!r}{more}", first.get("Key")
            )

    def _copy_object(self, source: ObjectMeta, dst: str, *, create_only: bool) -> None:
        assert source.etag is not None
        if not create_only and source.size <= MAX_PART_SIZE:
            # CopyObject keeps the metadata and content type; the destination ignores
            # If-None-Match on the servers here, so create-only takes the multipart path.
            self._copy_whole(source.key, dst, if_match=source.etag)
            return
        self._multipart_copy(source, dst, create_only=create_only)

    # ------------------------------------------------------------------ faster hooks

    def _copy(self, src: str, dst: str, *, overwrite: bool) -> None:
        """``overwrite=True``: one CopyObject (S3 copies one version, with its metadata,
        atomically; no pin is needed without a condition). A create-only copy needs the
        source's metadata for its multipart copy: the core's HEAD, then S3-006."""
        if not overwrite or self.check_namespace_on_write:
            # The source is checked before the destination's namespace: the core's order.
            super()._copy(src, dst, overwrite=overwrite)
            return
        try:
            self._copy_whole(src, dst)
        except NotFound:
            raise self._missing(src) from None
        except InvalidArgument:
            # Above 5 GiB CopyObject is refused: the multipart copy, from a HEAD.
            super()._copy(src, dst, overwrite=overwrite)

    def _copy_whole(self, src: str, dst: str, *, if_match: str | None = None) -> None:
        """One CopyObject of *src* to *dst* (up to 5 GiB), metadata and content type kept;
        with *if_match*, only of that version of *src*."""
        params: dict[str, Any] = {"CopySource": {"Bucket": self._bucket, "Key": src}}
        if if_match is not None:
            params["CopySourceIfMatch"] = quoted(if_match)
        self._requests(
            "copy_object",
            "copy",
            dst,
            Bucket=self._bucket,
            Key=dst,
            MetadataDirective="COPY",
            **params,
        )

    def _multipart_copy(self, source: ObjectMeta, dst: str, *, create_only: bool) -> None:
        """UploadPartCopy ranges of the pinned source, completed in one request that
        carries ``If-None-Match: *`` when create-only; aborted on any failure."""
        assert source.etag is not None
        created: dict[str, Any] = {"Metadata": dict(source.metadata or {})}
        if source.digest is not None and source.digest.algorithm == "md5":
            created["Metadata"].update(stored(bytes.fromhex(source.digest.value)))
        if source.content_type:
            created["ContentType"] = source.content_type
        answer = self._requests(
            "create_multipart_upload", "copy", dst, Bucket=self._bucket, Key=dst, **created
        )
        upload_id = answer["UploadId"]
        try:
            parts = self._copy_parts(source, dst, upload_id)
            condition: dict[str, Any] = {"IfNoneMatch": "*"} if create_only else {}
            expected = multipart_etag([bytes.fromhex(etag) for _, etag in parts])
            try:
                self._requests(
                    "complete_multipart_upload",
                    "copy",
                    dst,
                    create_only=create_only,
                    Bucket=self._bucket,
                    Key=dst,
                    UploadId=upload_id,
                    MultipartUpload={
                        "Parts": [{"PartNumber": n, "ETag": quoted(etag)} for n, etag in parts]
                    },
                    **condition,
                )
            except Exception:
                if not landed(lambda: self._copied(dst, expected), f"copy {dst!r}", log):
                    raise
            upload_id = ""
        finally:
            if upload_id:
                self._abort(dst, upload_id)

    def _copy_parts(self, source: ObjectMeta, dst: str, upload_id: str) -> list[tuple[int, str]]:
        step = max(COPY_PART_SIZE, -(-source.size // 10_000))
        ranges = [(start, min(start + step, source.size)) for start in range(0, source.size, step)]
        parts: list[tuple[int, str]] = []
        for number, (start, end) in enumerate(ranges or [(0, 0)], 1):
            span: dict[str, Any] = (
                {"CopySourceRange": f"bytes={start}-{end - 1}"} if len(ranges) > 1 else {}
            )
            answer = self._requests(
                "upload_part_copy",
                "copy",
                dst,
                Bucket=self._bucket,
                Key=dst,
                UploadId=upload_id,
                PartNumber=number,
                CopySource={"Bucket": self._bucket, "Key": source.key},
                CopySourceIfMatch=quoted(source.etag or ""),
                **span,
            )
            parts.append((number, str(normalize_etag(answer["CopyPartResult"]["ETag"]))))
        # Not every server honours CopySourceIfMatch on UploadPartCopy (MiniStack and moto
        # ignore it): a one-part copy of a one-part object must have the source's MD5.
        etag = source.etag or ""
        if len(parts) == 1 and "-" not in etag and parts[0][1] != etag:
            raise PreconditionFailed(
                f"copy {source.key!r}: it changed while copied", path=source.key, backend=BACKEND
            )
        return parts

    def _copied(self, dst: str, expected: str) -> bool:
        meta = self._head_object(dst)
        return meta is not None and meta.etag == expected

    def _abort(self, key: str, upload_id: str) -> None:
        try:
            self._requests(
                "abort_multipart_upload",
                "copy",
                key,
                Bucket=self._bucket,
                Key=key,
                UploadId=upload_id,
            )
        except Exception:
            log.warning("abort of the multipart copy to %r failed", key, exc_info=True)
