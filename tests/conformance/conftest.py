"""The conformance suite runs against each backend in `tests.backend_factories.FACTORIES`.

A backend is added there; its marker goes in `MARKS` here if it needs one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from remote_store.backend import Backend
from tests.backend_factories import FACTORIES

#: Backend name -> markers its tests carry (e.g. ``[pytest.mark.azure]``), so `-m` selects.
MARKS: dict[str, list[pytest.MarkDecorator]] = {
    "azure": [pytest.mark.azure],
    "http": [pytest.mark.http],
    "sql-blob-postgres": [pytest.mark.postgres],
    "sftp": [pytest.mark.sftp],
    "s3": [pytest.mark.s3],
    "s3-pyarrow": [pytest.mark.s3],
}


@pytest.fixture(params=[pytest.param(name, marks=MARKS.get(name, [])) for name in FACTORIES])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """Each backend in `FACTORIES`, closed after the test."""
    instance = FACTORIES[request.param](request)
    yield instance
    instance.close()
