"""Uploads: one PutObject when the payload is small, a multipart upload when it is not.
S3's adapter over `remote_store.transfer.uploader`.

Either way the object appears in one request (PutObject, or CompleteMultipartUpload), so
readers see the old content or the new; ``overwrite=False`` rides on that request as
``If-None-Match: *``, ``if_match`` as ``If-Match``. Every request carries the MD5 of its
bytes (``Content-MD5``: S3 refuses a body that arrives altered), so the object's ETag is
that MD5 (one part) or the MD5 of the parts' MD5s and ``-N`` (multipart): both are known
before the commit, which is what tells a retried commit that met its own first attempt
from a real conflict. A multipart upload that fails for any reason is aborted, so no
parts are left behind.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from remote_store.backends.s3.digest import hash_ahead, stored
from remote_store.backends.s3.errors import is_missing
from remote_store.backends.s3.model import Settings, normalize_etag, quoted
from remote_store.backends.s3.retry import Requests
from remote_store.errors import AlreadyExists, InvalidArgument, NotFound, PreconditionFailed
from remote_store.models import ContentDigest, WriteResult, WriteSource
from remote_store.streams import WritableContent
from remote_store.transfer import uploader
from remote_store.transfer.reconcile import landed
from remote_store.transfer.uploader import PartUploader

log = logging.getLogger("remote_store.s3")

#: How much of a source stream is read at a time: below glibc's default mmap threshold
#: (128 KiB), so reads reuse malloc's memory and parts go into reused buffers
#: (`PartUploader` ``reuse_buffers``).
READ_SIZE = 64 * 1024

#: S3's limit of parts per upload.
MAX_PARTS = 10_000


@dataclass(frozen=True)
class Part:
    number: int
    etag: str
    md5: bytes


def multipart_etag(md5s: list[bytes]) -> str:
    """The ETag S3 gives a multipart object: the MD5 of its parts' MD5s, ``-`` and N."""
    return f"{hashlib.md5(b''.join(md5s), usedforsecurity=False).hexdigest()}-{len(md5s)}"


class _Multipart:
    """An S3 key as a `PartTarget`: PutObject, or Create/UploadPart/Complete (or Abort)."""

    def __init__(
        self,
        requests: Requests,
        bucket: str,
        key: str,
        *,
        create_only: bool,
        if_match: str | None,
        metadata: Mapping[str, str] | None,
        content_type: str | None = None,
        md5: bytes | None = None,
    ) -> None:
        self._requests = requests
        self._md5 = md5  # hashed before the upload (digest.hash_ahead), stored with it
        self._bucket = bucket
        self._key = key
        self._create_only = create_only
        self._metadata = dict(metadata) if metadata is not None else None
        self._object: dict[str, Any] = {"Metadata": self._metadata or {}}
        if content_type:
            self._object["ContentType"] = content_type
        self._condition: dict[str, Any] = {}
        if create_only:
            self._condition["IfNoneMatch"] = "*"
        if if_match is not None:
            self._condition["IfMatch"] = quoted(if_match)
        self._upload_id: str | None = None

    def put_whole(self, data: bytes, digest: bytes) -> WriteResult:
        params = dict(
            Bucket=self._bucket,
            Key=self._key,
            Body=data,
            ContentMD5=base64.b64encode(digest).decode(),
            **self._object,
            **self._condition,
        )
        expected = digest.hex()
        return self._commit("put_object", params, expected, len(data), digest)

    def begin(self) -> None:
        answer = self._requests(
            "create_multipart_upload",
            "write",
            self._key,
            Bucket=self._bucket,
            Key=self._key,
            **self._object_with_digest(),
        )
        self._upload_id = answer["UploadId"]

    def _object_with_digest(self) -> dict[str, Any]:
        if self._md5 is None:
            return self._object
        return {**self._object, "Metadata": {**self._object["Metadata"], **stored(self._md5)}}

    def stage(self, index: int, data: bytes | bytearray) -> Part:
        md5 = hashlib.md5(data, usedforsecurity=False).digest()
        answer = self._requests(
            "upload_part",
            "write",
            self._key,
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=index + 1,
            Body=data,
            ContentMD5=base64.b64encode(md5).decode(),
        )
        return Part(index + 1, answer["ETag"], md5)

    def commit(self, parts: list[Part], digest: bytes, size: int) -> WriteResult:
        if self._md5 is not None and digest != self._md5:
            # The upload is aborted: the object would carry the MD5 of other content.
            raise InvalidArgument(
                f"write {self._key!r}: the source changed while it was uploaded (its MD5 "
                "differs from the one computed before the upload); nothing was written",
                path=self._key,
            )
        params = dict(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": [{"PartNumber": p.number, "ETag": p.etag} for p in parts]},
            **self._condition,
        )
        expected = multipart_etag([p.md5 for p in parts])
        result = self._commit("complete_multipart_upload", params, expected, size, digest)
        self._upload_id = None
        return result

    def abort(self) -> None:
        if self._upload_id is None:
            return
        upload_id, self._upload_id = self._upload_id, None
        try:
            self._requests(
                "abort_multipart_upload",
                "write",
                self._key,
                Bucket=self._bucket,
                Key=self._key,
                UploadId=upload_id,
            )
        except NotFound:
            pass  # already gone: completed by a retried first attempt, or aborted
        except Exception:
            # The write's own failure is the one to report; this one is only logged.
            log.warning("abort of the multipart upload to %r failed", self._key, exc_info=True)

    def _commit(
        self, method: str, params: dict[str, Any], expected: str, size: int, digest: bytes
    ) -> WriteResult:
        try:
            answer = self._requests(
                method, "write", self._key, create_only=self._create_only, **params
            )
            etag = normalize_etag(answer.get("ETag"))
            version = answer.get("VersionId")
        except (AlreadyExists, PreconditionFailed, NotFound) as error:
            # A retried commit may have met its own first attempt (NotFound: a Complete
            # whose upload the first attempt already completed).
            if isinstance(error, NotFound) and method != "complete_multipart_upload":
                raise
            head = landed(lambda: self._ours(expected, size), f"write {self._key!r}", log)
            if not head:
                raise
            etag, version = normalize_etag(head.get("ETag")), head.get("VersionId")
        return WriteResult(
            path=self._key,
            size=size,
            source=WriteSource.NATIVE,
            etag=etag,
            digest=ContentDigest("md5", digest.hex()),
            version_id=version,
            metadata=dict(self._metadata) if self._metadata is not None else None,
        )

    def _ours(self, expected: str, size: int) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            head: dict[str, Any] = self._requests.raw(
                "head_object", Bucket=self._bucket, Key=self._key
            )
        except ClientError as error:
            if is_missing(error):
                return None
            raise
        if normalize_etag(head.get("ETag")) != expected or head.get("ContentLength") != size:
            return None
        return head


class S3Uploader(PartUploader[Part, WriteResult]):
    """Accepts content piece by piece and lands it as one object on `finish`: holds at
    most one single-put payload, or ``max_concurrency`` parts in flight plus the one
    filling up."""

    def __init__(
        self,
        requests: Requests,
        bucket: str,
        key: str,
        settings: Settings,
        *,
        create_only: bool,
        if_match: str | None,
        metadata: Mapping[str, str] | None,
        md5: bytes | None = None,
    ) -> None:
        super().__init__(
            _Multipart(
                requests,
                bucket,
                key,
                create_only=create_only,
                if_match=if_match,
                metadata=metadata,
                md5=md5,
            ),
            single_put_size=settings.single_put_size,
            part_size=settings.part_size,
            max_concurrency=settings.max_concurrency,
            max_parts=MAX_PARTS,
            hint="raise part_size",
            thread_name="s3-upload",
            reuse_buffers=True,
        )


def upload(
    requests: Requests,
    bucket: str,
    key: str,
    content: WritableContent,
    settings: Settings,
    *,
    create_only: bool,
    if_match: str | None,
    metadata: Mapping[str, str] | None,
) -> WriteResult:
    """Write *content* (bytes or a binary stream) to *key* in the fewest requests."""
    parts = S3Uploader(
        requests,
        bucket,
        key,
        settings,
        create_only=create_only,
        if_match=if_match,
        metadata=metadata,
        md5=hash_ahead(content, settings.single_put_size),
    )
    return uploader.upload(
        content,
        parts,
        part_size=settings.part_size,
        single_put_size=settings.single_put_size,
        read_size=READ_SIZE,
    )
