"""Our own backends against the shipped conformance suite."""

from __future__ import annotations

from remote_store.testing import ConformanceSuite


class TestConformance(ConformanceSuite):
    """Runs every conformance test for each backend in conftest's `FACTORIES`."""
