"""Fixtures for the SFTP tests: backends on the session's sshd, each in a fresh folder."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from paramiko.sftp import CMD_EXTENDED

from remote_store.backends.sftp import SFTPBackend
from remote_store.backends.sftp.pool import Session, StatusError
from remote_store.errors import AlreadyExists
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


def sent_so_far(backend: SFTPBackend) -> Counter[int]:
    """SFTP requests the backend's sessions sent so far, by packet type."""
    return Counter(backend._pool.sent)


def sent_since(backend: SFTPBackend, before: Counter[int]) -> Counter[int]:
    """Requests sent since *before* (a `sent_so_far` count), by packet type."""
    after = sent_so_far(backend)
    after.subtract(before)
    return +after


def race_create_only(
    backend: SFTPBackend, folder: str, content: Callable[[int], bytes], rounds: int = 10
) -> None:
    """*rounds* races of 8 threads writing one new name in *folder* with overwrite=False:
    exactly one wins each, and the file holds the winner's ``content(worker)``."""
    for round_ in range(rounds):
        barrier = threading.Barrier(8)
        name = f"{folder}/{round_}.txt"

        def attempt(worker: int, name: str = name, barrier: threading.Barrier = barrier) -> int:
            barrier.wait()
            try:
                backend.write(name, content(worker))
            except AlreadyExists:
                return -1
            return worker

        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(attempt, range(8)))
        winners = [w for w in outcomes if w >= 0]
        assert len(winners) == 1, outcomes
        assert backend.read_bytes(name) == content(winners[0])


def lose_answer(
    monkeypatch: pytest.MonkeyPatch,
    proxy: Relay,
    matches: Callable[[int, tuple[Any, ...]], bool],
    *,
    performed: bool = True,
    refused: bool = False,
    then: Callable[[], object] | None = None,
) -> list[tuple[int, tuple[Any, ...]]]:
    """The first request for which ``matches(packet_type, args)`` holds (and which the
    server does not refuse, unless *refused*) loses its answer
    with the connection: with *performed*, the server really carries it out and answers
    (the answer is read and dropped), else it is never sent; then *proxy* cuts the link
    and the caller sees the `EOFError` paramiko raises for a lost answer (once the
    transport noticed), after ``then()`` (what another client does meanwhile). Returns
    the list that records the request it hit."""
    real = Session._async_request
    hit: list[tuple[int, tuple[Any, ...]]] = []

    def request(self: Session, fileobj: Any, t: int, *args: Any) -> int:
        if hit or not matches(t, args):
            return real(self, fileobj, t, *args)
        hit.append((t, args))
        if performed:
            number = real(self, type(None), t, *args)
            try:
                self._read_response(number)  # the server did it; the answer goes nowhere
            except StatusError:
                if not refused:
                    hit.pop()  # refused (a missing folder, say): the next one is the one
                    raise
        proxy.cut()
        transport = self.get_channel().get_transport()  # type: ignore[union-attr]
        while transport.is_active():
            time.sleep(0.01)
        if then is not None:
            then()
        raise EOFError("the connection closed before the answer")

    monkeypatch.setattr(Session, "_async_request", request)
    return hit


def extended(name: str) -> Callable[[int, tuple[Any, ...]], bool]:
    """Matches the SFTP extension request *name* (for `lose_answer`)."""
    return lambda t, args: t == CMD_EXTENDED and args[:1] == (name,)
