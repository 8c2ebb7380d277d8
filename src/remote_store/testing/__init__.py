"""The backend conformance suite, shipped so any backend can prove it keeps the contract.

Subclass `ConformanceSuite` in a test module and provide a ``backend`` fixture::

    import pytest
    from remote_store.testing import ConformanceSuite

    class TestMyBackend(ConformanceSuite):
        @pytest.fixture
        def backend(self):
            return MyBackend(...)

Every test works in a fresh folder of that backend, removed afterwards, so one shared
backend (one Azure container, say) serves the whole run. A test whose capability the
backend does not declare checks that the Store refuses the call instead of skipping.
The invariants cited in docstrings (BC-..., ST-...) are in sdd/specs/003-backend-contract.md.
"""

from __future__ import annotations

from remote_store.testing._base import SuiteBase
from remote_store.testing._concurrency import ConcurrencyTests
from remote_store.testing._conditional import ConditionalTests
from remote_store.testing._deleting import DeletingTests
from remote_store.testing._listing import ListingTests
from remote_store.testing._metadata import MetadataTests
from remote_store.testing._moving import MovingTests
from remote_store.testing._paths import PathTests
from remote_store.testing._reading import ReadingTests
from remote_store.testing._stateful import StatefulTests
from remote_store.testing._write_result import WriteResultTests
from remote_store.testing._writing import WritingTests

__all__ = ["ConformanceSuite", "SuiteBase"]


class ConformanceSuite(
    ReadingTests,
    WritingTests,
    WriteResultTests,
    ListingTests,
    MovingTests,
    DeletingTests,
    MetadataTests,
    PathTests,
    ConcurrencyTests,
    ConditionalTests,
    StatefulTests,
):
    """Every conformance test. Needs a ``backend`` fixture; tune with the class attributes
    `large_payload_size`, `threads`, `soak_threads`, `soak_increments` and `stateful_settings`."""
