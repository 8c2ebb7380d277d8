"""Fixtures for the performance guards: an HNS emulator of their own (page sizes are
changed here, so the session's shared one is left alone), and request-counting backends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from remote_store.backends.azure import AzureBackend
from remote_store.store import Store
from tests.hns_emulator import HnsEmulator

StoreFactory = Callable[..., Store]


@pytest.fixture(scope="module")
def emulator() -> Iterator[HnsEmulator]:
    with HnsEmulator() as emu:
        yield emu


def seed(emu: HnsEmulator, container: str, names: list[str], data: bytes = b"x") -> None:
    """Create a container and files straight in the emulator's namespace (no HTTP)."""
    ns = emu.namespace
    with ns.lock:
        cont = ns.create_container(container, {}, dfs=False)
        for name in names:
            ns.write_file(
                cont, name, data, metadata={}, content_md5=None, content_type="text/plain"
            )


@pytest.fixture
def emulator_store(emulator: HnsEmulator) -> Iterator[StoreFactory]:
    """``make(container, hns=...)``: a Store on the emulator; hns given, so no detection."""
    built: list[Store] = []

    def make(container: str, *, hns: bool, **options: Any) -> Store:
        backend = AzureBackend(
            container, connection_string=emulator.connection_string, hns=hns, **options
        )
        store = Store(backend)
        built.append(store)
        return store

    yield make
    for store in built:
        store.close()
    emulator.set_page_sizes()
