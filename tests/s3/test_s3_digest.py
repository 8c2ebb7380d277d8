"""S3-018: the MD5 stored with a multipart object (``md5chksum``, hashed before the upload
when the content can be read twice locally), on MiniStack and on moto."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest

from remote_store.errors import InvalidArgument
from remote_store.models import ContentDigest
from remote_store.store import Store
from tests.s3.conftest import MakeBackend
from tests.s3_support import S3Server

pytestmark = pytest.mark.s3

MiB = 1024 * 1024
SMALL_PARTS: dict[str, Any] = {"part_size": 5 * MiB, "single_put_size": 5 * MiB}
DATA = bytes(range(256)) * (11 * MiB // 256)  # three parts


def _md5(data: bytes) -> ContentDigest:
    return ContentDigest("md5", hashlib.md5(data, usedforsecurity=False).hexdigest())


class OnePass(io.RawIOBase):
    """A stream that can be read once: no seek, no file descriptor."""

    def __init__(self, data: bytes) -> None:
        self._source = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._source.readinto(buffer)


class ChangingFile(io.BytesIO):
    """An in-memory file whose bytes change after the first full pass (the pre-hash)."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.passes = 0

    def read(self, size: int | None = -1) -> bytes:
        piece = super().read(size)
        if not piece:
            self.passes += 1
            if self.passes == 1:
                self.getbuffer()[0] ^= 0xFF
        return piece


def _sources(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "data.bin"
    path.write_bytes(DATA)
    return {
        "bytes": lambda: DATA,
        "bytesio": lambda: io.BytesIO(DATA),
        "file": lambda: path.open("rb"),
    }


@pytest.mark.parametrize("kind", ["bytes", "bytesio", "file"])
def test_a_multipart_object_carries_its_md5(
    make_backend: MakeBackend, ministack: S3Server, bucket: str, tmp_path: Path, kind: str
) -> None:
    """Content that can be read twice locally: the MD5 is stored on CreateMultipartUpload
    (rclone's ``md5chksum``), reported by get_file_info, hidden from the user metadata."""
    store = Store(make_backend(**SMALL_PARTS))
    source = _sources(tmp_path)[kind]()
    result = store.write("big.bin", source, metadata={"owner": "me"})
    assert result.etag is not None and result.etag.endswith("-3")  # really multipart
    info = store.get_file_info("big.bin")
    assert info.digest == _md5(DATA) == result.digest
    assert info.metadata == {"owner": "me"}
    head = ministack.client().head_object(Bucket=bucket, Key="big.bin")
    stored = base64.b64decode(head["Metadata"]["md5chksum"])
    assert stored == hashlib.md5(DATA, usedforsecurity=False).digest()


def test_a_one_pass_stream_stores_no_md5(make_backend: MakeBackend) -> None:
    """Reading it twice is not possible: no stored MD5, but the write's result has it."""
    store = Store(make_backend(**SMALL_PARTS))
    result = store.write("big.bin", cast(BinaryIO, OnePass(DATA)))
    assert result.digest == _md5(DATA)
    assert store.get_file_info("big.bin").digest is None


def test_a_source_that_changes_during_the_upload_writes_nothing(
    make_backend: MakeBackend, ministack: S3Server, bucket: str
) -> None:
    """The upload's own MD5 differs from the one hashed before it: aborted, nothing written,
    no parts left behind (never an object whose stored MD5 is of other content)."""
    store = Store(make_backend(**SMALL_PARTS))
    with pytest.raises(InvalidArgument, match="changed while it was uploaded"):
        store.write("big.bin", cast(BinaryIO, ChangingFile(DATA)))
    assert not store.exists("big.bin")
    uploads = ministack.client().list_multipart_uploads(Bucket=bucket)
    assert not uploads.get("Uploads")


def test_the_md5_key_is_reserved(make_backend: MakeBackend) -> None:
    store = Store(make_backend())
    with pytest.raises(InvalidArgument, match="reserved"):
        store.write("f.txt", b"x", metadata={"md5chksum": "abc"})
    assert not store.exists("f.txt")


def test_a_copy_keeps_the_md5(make_backend: MakeBackend) -> None:
    """CopyObject copies the metadata, the stored MD5 with it."""
    store = Store(make_backend(**SMALL_PARTS))
    store.write("big.bin", DATA)
    store.copy("big.bin", "copy.bin")
    assert store.get_file_info("copy.bin").digest == _md5(DATA)


def test_moto_stores_the_md5_too(moto: S3Server) -> None:
    """The second rig: the same metadata round trip."""
    backend = moto.backend(moto.new_bucket(), **SMALL_PARTS)
    with Store(backend) as store:
        store.write("big.bin", DATA)
        assert store.get_file_info("big.bin").digest == _md5(DATA)
