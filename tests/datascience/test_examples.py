"""examples/rstore_datasets.py and examples/dask_distributed.py run as a user runs them,
on local disk and on Azurite."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.azure_support import Azurite
from tests.docs.test_examples import _azure_demo_config, _ok, _python

EXPECTED = (
    "pandas CSV: 5 rows, sales 42\n"
    "PyArrow dataset: 5 rows, 2026: 3 rows\n"
    "workers counted 5 rows in 2 files\n"
)


def test_rstore_datasets_on_local_disk(tmp_path: Path) -> None:
    assert _ok(_python("rstore_datasets.py", cwd=tmp_path)) == EXPECTED
    hive = tmp_path / ".remote-store-data/demo/rstore-example/hive"
    assert sorted(p.name for p in hive.iterdir()) == ["year=2025", "year=2026"]


@pytest.mark.azure
def test_rstore_datasets_on_azurite(tmp_path: Path, azurite: Azurite) -> None:
    env = {
        "REMOTE_STORE_CONFIG": str(_azure_demo_config(tmp_path, azurite)),
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
    }
    assert _ok(_python("rstore_datasets.py", cwd=tmp_path, env=env)) == EXPECTED


DASK_EXPECTED = (
    "read_csv: 3 files, sales 48\n"
    "read_parquet 2025+: 4 rows, sales 31\n"
    "workers counted 6 rows in 3 files\n"
)


@pytest.mark.slow
def test_dask_distributed_on_local_disk(tmp_path: Path) -> None:
    assert _ok(_python("dask_distributed.py", cwd=tmp_path)) == DASK_EXPECTED
    hive = tmp_path / ".remote-store-data/demo/dask-example/hive"
    assert sorted(p.name for p in hive.iterdir()) == ["year=2024", "year=2025", "year=2026"]


@pytest.mark.slow
@pytest.mark.azure
def test_dask_distributed_on_azurite(tmp_path: Path, azurite: Azurite) -> None:
    env = {
        "REMOTE_STORE_CONFIG": str(_azure_demo_config(tmp_path, azurite)),
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
    }
    assert _ok(_python("dask_distributed.py", cwd=tmp_path, env=env)) == DASK_EXPECTED
