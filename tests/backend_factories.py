"""Every backend this project ships, one factory per name, for the tests that run on each:
the conformance suite (``tests/conformance``) and the full counter soak (``tests/concurrency``).

To add a backend, add an entry to `FACTORIES`. A backend that needs a server takes it from a
session fixture, for example ``request.getfixturevalue("azurite")`` from ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from remote_store.backend import Backend
from remote_store.backends import LocalBackend, MemoryBackend
from tests.azure_support import conformance_backend, hns_conformance_backend
from tests.http_support import http_conformance_backend
from tests.s3_support import conformance_backend as s3_conformance_backend
from tests.s3_support import pyarrow_conformance_backend
from tests.sftp_support import conformance_backend as sftp_conformance_backend
from tests.sql_support import postgres_backend, sqlite_backend


def _memory(request: pytest.FixtureRequest) -> Backend:
    return MemoryBackend()


def _local(request: pytest.FixtureRequest) -> Backend:
    tmp_path: Path = request.getfixturevalue("tmp_path")
    return LocalBackend(tmp_path / "store")


#: Backend name -> factory. A factory gets pytest's request and returns a fresh backend.
FACTORIES: dict[str, Callable[[pytest.FixtureRequest], Backend]] = {
    "memory": _memory,
    "local": _local,
    "azure": conformance_backend,
    "azure-hns": hns_conformance_backend,
    "http": http_conformance_backend,
    "sql-blob-sqlite": sqlite_backend,
    "sql-blob-postgres": postgres_backend,
    "sftp": sftp_conformance_backend,
    "s3": s3_conformance_backend,
    "s3-pyarrow": pyarrow_conformance_backend,
}
