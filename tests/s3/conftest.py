"""Fixtures of the S3 tests: a fresh bucket on the session's MiniStack, backends on it with
their requests counted, and a store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.client import BaseClient

from remote_store.backends.s3 import S3Backend
from remote_store.store import Store
from tests.s3_support import RequestCounter, S3Server

pytestmark = pytest.mark.s3

MakeBackend = Callable[..., S3Backend]


@pytest.fixture
def bucket(ministack: S3Server) -> str:
    return ministack.new_bucket()


@pytest.fixture
def counter() -> RequestCounter:
    return RequestCounter()


@pytest.fixture
def make_backend(
    ministack: S3Server, bucket: str, counter: RequestCounter
) -> Iterator[MakeBackend]:
    """Builds backends on the test's bucket (or ``endpoint_url=`` a proxy), every request
    counted in ``counter``; closes them at the end."""
    built: list[S3Backend] = []

    def make(**options: Any) -> S3Backend:
        backend = ministack.backend(options.pop("bucket", bucket), **options)
        counter.attach(backend.unwrap(BaseClient))
        built.append(backend)
        return backend

    yield make
    for backend in built:
        backend.close()


@pytest.fixture
def backend(make_backend: MakeBackend) -> S3Backend:
    return make_backend()


@pytest.fixture
def store(backend: S3Backend) -> Store:
    return Store(backend)
