"""Fixtures for the SFTP tests: backends on the session's sshd, each in a fresh folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from remote_store.backends.sftp import SFTPBackend
from tests.sftp.relay import Relay
from tests.sftp_support import Account, Sshd, run_sshd, throwaway_user

Make = Callable[..., SFTPBackend]


@pytest.fixture
def make_backend(sshd: Sshd) -> Iterator[Make]:
    """Builds `SFTPBackend`s on the session's sshd (fresh folder each), closed at the end."""
    built: list[SFTPBackend] = []

    def make(**overrides: Any) -> SFTPBackend:
        backend = sshd.backend(**overrides)
        built.append(backend)
        return backend

    yield make
    for backend in built:
        backend.close()


@pytest.fixture
def backend(make_backend: Make) -> SFTPBackend:
    return make_backend()


@pytest.fixture
def relay(sshd: Sshd) -> Iterator[Relay]:
    """A TCP relay in front of the session's sshd, which the test can cut."""
    with Relay((sshd.host, sshd.port)) as proxy:
        yield proxy


def through(server: Sshd, proxy: Relay) -> dict[str, Any]:
    """Options for a backend that reaches *server* through *proxy*."""
    return {
        "port": proxy.port,
        "known_host_keys": [f"[{server.host}]:{proxy.port} {server.host_public_key}"],
    }


@pytest.fixture
def own_sshd(tmp_path: Path) -> Iterator[Sshd]:
    """An sshd of this test's own, which it may kill."""
    with run_sshd(tmp_path / "sshd") as server:
        yield server


@pytest.fixture(scope="session")
def password_account() -> Iterator[Account]:
    """A throwaway local account with a random password (root only; removed at the end)."""
    with throwaway_user() as account:
        yield account
