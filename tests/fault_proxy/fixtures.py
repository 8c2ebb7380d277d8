"""Pytest fixtures: a fresh `FaultProxy` per test in front of the session's emulators.

Register them for every test with this line in ``tests/conftest.py`` (names listed in its
``__all__``)::

    from tests.fault_proxy.fixtures import azurite_proxy, fault_proxy, hns_proxy

A proxy is cheap (one listening socket and a thread), so each test gets its own: its plan,
log and counters start empty and nothing leaks into the next test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.azure_support import Azurite
from tests.hns_emulator import HnsEmulator

from .proxy import FaultProxy

ProxyFactory = Callable[..., FaultProxy]


@pytest.fixture
def fault_proxy() -> Iterator[ProxyFactory]:
    """``fault_proxy(upstream_url_or_connection_string, **options)`` -> a started proxy,
    closed (threads joined) at the end of the test."""
    started: list[FaultProxy] = []

    def make(target: str, **options: Any) -> FaultProxy:
        if "BlobEndpoint=" in target:
            proxy = FaultProxy.for_connection_string(target, **options)
        else:
            proxy = FaultProxy(target, **options)
        started.append(proxy.start())
        return proxy

    yield make
    for proxy in started:
        proxy.close()


@pytest.fixture
def azurite_proxy(azurite: Azurite, fault_proxy: ProxyFactory) -> FaultProxy:
    """A proxy in front of the session's Azurite: ``.connection_string``, ``.url``."""
    return fault_proxy(azurite.connection_string)


@pytest.fixture
def hns_proxy(hns_emulator: HnsEmulator, fault_proxy: ProxyFactory) -> FaultProxy:
    """A proxy in front of the session's HNS emulator: ``.connection_string``, ``.url``."""
    return fault_proxy(hns_emulator.connection_string)
