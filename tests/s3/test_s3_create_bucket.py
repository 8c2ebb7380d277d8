"""S3-040: create_bucket=True creates a missing bucket at the first call; create_bucket()
says whether it created it (a HeadBucket first: some services answer CreateBucket of an
existing bucket with success)."""

from __future__ import annotations

import uuid

import pytest

from remote_store.errors import NotFound
from tests.s3_support import S3Server

pytestmark = pytest.mark.s3


def test_create_bucket_on_first_use_and_on_demand(ministack: S3Server) -> None:
    name = f"auto-{uuid.uuid4().hex[:12]}"
    with ministack.backend(name, create_bucket=True) as backend:
        backend.write("first.txt", b"no NotFound")
        assert backend.read_bytes("first.txt") == b"no NotFound"
        assert backend.create_bucket() is False
    other = f"{name}-b"
    with ministack.backend(other) as plain:
        with pytest.raises(NotFound) as caught:
            plain.write("x.txt", b"x")
        assert caught.value.service_code == "NoSuchBucket"
        assert plain.create_bucket() is True
        assert plain.create_bucket() is False
        plain.write("x.txt", b"x")
