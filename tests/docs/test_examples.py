"""Every script in examples/ runs, as a user would run it: a subprocess of the installed package.

Local runs work in a temporary directory; Azure runs use the session's Azurite (the
``azurite`` fixture of tests/conftest.py), each in a fresh container.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from remote_store import Registry, RegistryConfig
from tests.azure_support import ACCOUNT_KEY, Azurite
from tests.docs.blocks import ROOT

EXAMPLES = ROOT / "examples"
BIN = Path(sys.executable).parent  # the venv's bin: python and the remote-store command


def _run(
    command: list[str], cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AZURE_STORAGE_", "REMOTE_STORE_"))
    }
    environment["PATH"] = f"{BIN}{os.pathsep}{environment.get('PATH', '')}"
    environment.update(env or {})
    return subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout
    )


def _python(
    script: str, *args: str, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, str(EXAMPLES / script), *args], cwd, env)


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (
        f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    return result.stdout


def _azure_demo_config(tmp_path: Path, azurite: Azurite) -> Path:
    """A configuration whose store ``demo`` is on Azurite, credentials by placeholder."""
    config = tmp_path / "azure.toml"
    config.write_text(
        "[backends.cloud]\n"
        'type = "azure"\n'
        f'container = "{azurite.new_container("ex")}"\n'
        'connection_string = "${AZURE_STORAGE_CONNECTION_STRING}"\n'
        "hns = false\n\n"
        "[stores.demo]\n"
        'backend = "cloud"\n'
        'root_path = "demo"\n',
        encoding="utf-8",
    )
    return config


def _blob_names(azurite: Azurite, container: str) -> list[str]:
    from azure.storage.blob import BlobServiceClient

    with BlobServiceClient.from_connection_string(azurite.connection_string) as service:
        return sorted(b.name for b in service.get_container_client(container).list_blobs())


# ---------------------------------------------------------------------- quickstart


def test_quickstart(tmp_path: Path) -> None:
    out = _ok(_python("quickstart.py", str(tmp_path / "data"), cwd=tmp_path))
    assert out.count("refused reports/q1.csv") == 2  # on disk and in memory
    assert out.count("gone    archive/q1.csv") == 2
    kept = tmp_path / "data/quickstart/reports"
    assert sorted(p.name for p in kept.iterdir()) == ["q1.csv", "summary.txt"]
    # A second run starts clean and prints the same.
    assert _ok(_python("quickstart.py", str(tmp_path / "data"), cwd=tmp_path)) == out


# ---------------------------------------------------------------------- dev -> prod


def test_switch_env_configs_load() -> None:
    env = {"AZURE_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true"}
    dev = RegistryConfig.from_toml(EXAMPLES / "config/dev.toml", env=env)
    prod = RegistryConfig.from_toml(EXAMPLES / "config/prod.toml", env=env)
    assert set(dev.stores) == set(prod.stores) == {"reports"}
    assert dev.backends["storage"].type == "local"
    assert prod.backends["storage"].type == "azure"
    Registry(dev).close()
    Registry(prod).close()


def test_switch_env_dev_runs_on_local_disk(tmp_path: Path) -> None:
    out = _ok(_python("switch_env.py", "dev", cwd=tmp_path))
    assert (tmp_path / ".remote-store-data/reports/daily/2026/03/31.csv").is_file()
    assert "files: ['daily/2026/03/31.csv']" in out


@pytest.mark.azure
def test_switch_env_prod_runs_on_azurite(tmp_path: Path, azurite: Azurite) -> None:
    container = azurite.new_container("prod")
    env = {
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "AZURE_STORAGE_CONTAINER": container,
    }
    out = _ok(_python("switch_env.py", "prod", cwd=tmp_path, env=env))
    assert _blob_names(azurite, container) == ["reports/daily/2026/03/31.csv"]
    assert "Secret('**********')" in out
    assert ACCOUNT_KEY not in out  # the connection string never prints


def test_switch_env_rejects_an_unknown_environment(tmp_path: Path) -> None:
    result = _python("switch_env.py", "staging", cwd=tmp_path)
    assert result.returncode == 2
    assert "usage" in result.stderr


# ---------------------------------------------------------------------- Azure with Azurite


@pytest.mark.azure
def test_azure_azurite(tmp_path: Path, azurite: Azurite) -> None:
    env = {"AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string}
    container = "example-azurite"  # the script creates it
    out = _ok(_python("azure_azurite.py", container, cwd=tmp_path, env=env))
    assert "refused raw/events.jsonl: exists" in out
    assert "atomic move? False" in out
    assert "moved   -> ['archive/events.jsonl', 'raw/big.bin']" in out
    assert ACCOUNT_KEY not in out
    assert _blob_names(azurite, container) == []  # it cleaned up after itself
    # Idempotent: a second run against the same container works too.
    _ok(_python("azure_azurite.py", container, cwd=tmp_path, env=env))


def test_azure_azurite_explains_a_missing_connection_string(tmp_path: Path) -> None:
    result = _python("azure_azurite.py", cwd=tmp_path)
    assert result.returncode == 2
    assert "AZURE_STORAGE_CONNECTION_STRING" in result.stderr


# ---------------------------------------------------------------------- pandas


def test_pandas_csv_parquet_on_local_disk(tmp_path: Path) -> None:
    out = _ok(_python("pandas_csv_parquet.py", cwd=tmp_path))
    assert "3 CSVs by glob: 6 rows, sales 102" in out
    assert "Parquet: 6 rows, columns ['month', 'region', 'sales']" in out
    folder = tmp_path / ".remote-store-data/demo/pandas-example/sales"
    assert (folder / "2026.parquet").is_file()


@pytest.mark.azure
def test_pandas_csv_parquet_on_azurite(tmp_path: Path, azurite: Azurite) -> None:
    env = {
        "REMOTE_STORE_CONFIG": str(_azure_demo_config(tmp_path, azurite)),
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
    }
    out = _ok(_python("pandas_csv_parquet.py", cwd=tmp_path, env=env))
    assert "Parquet: 6 rows, columns ['month', 'region', 'sales']" in out


# ---------------------------------------------------------------------- the CLI


def _bulk_copy(tmp_path: Path, env: Mapping[str, str] | None = None) -> str:
    assert shutil.which("remote-store", path=str(BIN)), (
        f"the remote-store command is not installed in {BIN}: pip install -e ."
    )
    return _ok(_run(["bash", str(EXAMPLES / "bulk_copy_cli.sh")], tmp_path, env))


def test_bulk_copy_cli_on_local_disk(tmp_path: Path) -> None:
    out = _bulk_copy(tmp_path)
    assert "60 files" in out
    assert "round trip: identical" in out
    assert not (tmp_path / ".remote-store-data/demo/bulk").exists()  # removed at the end


@pytest.mark.azure
def test_bulk_copy_cli_on_azurite(tmp_path: Path, azurite: Azurite) -> None:
    env = {
        "REMOTE_STORE_CONFIG": str(_azure_demo_config(tmp_path, azurite)),
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
    }
    out = _bulk_copy(tmp_path, env)
    assert "60 files" in out
    assert "round trip: identical" in out


# ---------------------------------------------------------------------- the main job


def test_main_job(tmp_path: Path) -> None:
    out = _ok(_python("main_job.py", cwd=tmp_path))
    assert "refused reports/2026/q1.csv" in out
    assert (tmp_path / ".remote-store-data/demo/archive/q1.csv").is_file()
