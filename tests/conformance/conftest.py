"""Backends the conformance suite runs against: one factory per name.

To add a backend, add an entry to `FACTORIES` (and its marker to `MARKS` if it needs one).
A backend that needs a server takes it from a session fixture, for example
``request.getfixturevalue("azurite")`` from ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from remote_store.backend import Backend
from remote_store.backends import LocalBackend, MemoryBackend
from tests.azure_support import conformance_backend, hns_conformance_backend


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
}

#: Backend name -> markers its tests carry (e.g. ``[pytest.mark.azure]``), so `-m` selects.
MARKS: dict[str, list[pytest.MarkDecorator]] = {"azure": [pytest.mark.azure]}


@pytest.fixture(params=[pytest.param(name, marks=MARKS.get(name, [])) for name in FACTORIES])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """Each backend in `FACTORIES`, closed after the test."""
    instance = FACTORIES[request.param](request)
    yield instance
    instance.close()
