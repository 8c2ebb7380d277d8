"""Pytest plugin: a session-scoped ``hns_emulator`` fixture.

Enable with ``pytest_plugins = ["hns_emulator.fixtures"]`` in the root
``tests/conftest.py``, or import ``hns_emulator`` into a test module.
The fixture yields the running ``HnsEmulator``: ``blob_url``, ``dfs_url``,
``account_name``, ``account_key``, ``credential``, ``connection_string``,
``requests`` / ``clear_requests()``, ``set_page_sizes()`` and ``reset()``.
State is shared by the whole session; tests should use their own container
names or call ``reset()``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from . import HnsEmulator


@pytest.fixture(scope="session")
def hns_emulator() -> Iterator[HnsEmulator]:
    """One SharedKey-verifying HNS emulator for the whole test session."""
    with HnsEmulator() as emulator:
        yield emulator
