"""Session-wide fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.azure_support import Azurite, run_azurite
from tests.fault_proxy.fixtures import azurite_proxy, fault_proxy, hns_proxy
from tests.hns_emulator.fixtures import hns_emulator
from tests.http_support import nginx, plain_http
from tests.s3_support import S3Server, run_server
from tests.sftp_support import Sshd, run_sshd
from tests.sql_support import Postgres, run_postgres

__all__ = [
    "azurite",
    "azurite_proxy",
    "fault_proxy",
    "hns_emulator",
    "hns_proxy",
    "ministack",
    "moto",
    "nginx",
    "plain_http",
    "postgres",
    "sshd",
]


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """A running Azurite Blob emulator (started once per session, stopped at its end)."""
    with run_azurite(tmp_path_factory.mktemp("azurite")) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A running PostgreSQL server (started once per session, stopped at its end)."""
    with run_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    """OpenSSH's sshd with SFTP on a free loopback port (started once, stopped by PID)."""
    with run_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture(scope="session")
def ministack() -> Iterator[S3Server]:
    """A running MiniStack S3 server (started once per session, stopped by PID at its end)."""
    with run_server("ministack") as server:
        yield server


@pytest.fixture(scope="session")
def moto() -> Iterator[S3Server]:
    """A running moto S3 server (started once per session, stopped by PID at its end)."""
    with run_server("moto") as server:
        yield server


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--live",
        action="store_true",
        default=False,
        help="run the tests marked `live` against a real Azure account "
        "(AZURE_STORAGE_CONNECTION_STRING; see docs/backends/azure.md)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `live` talk to a real account: deselected (not skipped) unless --live."""
    if config.getoption("--live"):
        return
    live = [item for item in items if item.get_closest_marker("live")]
    if live:
        config.hook.pytest_deselected(items=live)
        items[:] = [item for item in items if not item.get_closest_marker("live")]
