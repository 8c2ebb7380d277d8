"""HNS detection against both emulators, and the flat fallback on an HNS account (AZ-010..)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from remote_store.backends.azure import AzureBackend
from remote_store.config import RetryPolicy
from remote_store.errors import BackendUnavailable
from remote_store.store import Store
from remote_store.testing import ConformanceSuite
from tests.azure_hns.conftest import BackendFactory, Wire
from tests.azure_support import Azurite
from tests.hns_emulator import HnsEmulator

DENIED = "AuthorizationPermissionMismatch"


def _probes(wire: Wire) -> int:
    return sum(1 for r in wire.requests() if r.query.get("restype") == "account")


def test_detection_picks_hierarchical_on_the_hns_emulator(
    make_backend: BackendFactory, wire: Wire
) -> None:
    """AZ-010, AZ-014: GetAccountInfo says x-ms-is-hns-enabled: true."""
    backend = make_backend(hns=None)
    wire.clear()
    assert backend.resolve("x").details["strategy"] is None  # nothing asked yet
    assert backend.is_folder("")  # the root: the kernel answers, nothing is asked
    assert _probes(wire) == 0
    assert not backend.is_folder("x")
    assert backend.resolve("x").details["strategy"] == "hierarchical"
    assert backend.resolve("x").details["hns"] is True
    assert _probes(wire) == 1


@pytest.mark.azure
def test_detection_picks_flat_on_azurite(azurite: Azurite) -> None:
    """AZ-010, AZ-014: Azurite answers without HNS."""
    with AzureBackend(
        azurite.new_container(), connection_string=azurite.connection_string
    ) as backend:
        backend.exists("x")
        assert backend.resolve("x").details["strategy"] == "flat"
        assert backend.resolve("x").details["hns"] is False


def test_denied_probe_falls_back_to_flat_once(
    make_backend: BackendFactory, wire: Wire, caplog: pytest.LogCaptureFixture
) -> None:
    """AZ-012: a 403 on GetAccountInfo picks the flat strategy, with one warning naming
    hns=, and is not asked again."""
    wire.emulator.fail_account_info(DENIED)
    backend = make_backend(hns=None)
    wire.clear()
    with caplog.at_level(logging.WARNING, logger="remote_store.azure"):
        backend.exists("a")
        backend.exists("b")
        _ = backend.capabilities
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "hns=" in warnings[0].getMessage()
    assert backend.resolve("x").details["strategy"] == "flat"
    assert _probes(wire) == 1


def test_unavailable_probe_is_raised_and_not_cached(
    make_backend: BackendFactory, wire: Wire
) -> None:
    """AZ-013: a 503 on GetAccountInfo raises BackendUnavailable; the next call asks again
    and, the service back, picks the hierarchical strategy."""
    wire.emulator.fail_account_info("ServerBusy")
    backend = make_backend(hns=None, retry=RetryPolicy(attempts=1))
    wire.clear()
    with pytest.raises(BackendUnavailable) as caught:
        backend.exists("a")
    assert caught.value.retryable
    assert backend.resolve("x").details["strategy"] is None
    wire.emulator.fail_account_info(None)
    assert not backend.exists("a")
    assert backend.resolve("x").details["strategy"] == "hierarchical"
    assert _probes(wire) == 2


def test_flat_fallback_is_correct_on_hns(make_backend: BackendFactory) -> None:
    """AZ-012, AZ-051: the flat strategy (chosen after a denied probe) keeps working on an
    HNS account: directories (hdi_isfolder blobs) are never files; as everywhere on this
    strategy, a folder exists while something is below it, so an empty directory is
    invisible, consistently."""
    from azure.storage.filedatalake import FileSystemClient

    backend = make_backend(hns=False)
    store = Store(backend)
    store.write("a/b/c.txt", b"c")
    store.unwrap(FileSystemClient).get_directory_client("a/empty").create_directory()
    assert store.is_folder("a/b") and not store.is_file("a/b")
    assert not store.is_folder("a/empty") and not store.exists("a/empty")
    assert not store.is_file("a/empty")
    assert [f.path for f in store.list_folders("a")] == ["a/b"]
    assert [i.path for i in store.list_files("", recursive=True)] == ["a/b/c.txt"]
    store.move("a/b/c.txt", "x/y.txt")
    assert store.read_bytes("x/y.txt") == b"c"
    store.delete_folder("a", recursive=True)
    assert not store.exists("a")


class TestFlatStrategyOnHns(ConformanceSuite):
    """AZ-012: the whole conformance suite, on the flat strategy that a denied probe
    selects, against the HNS emulator."""

    @pytest.fixture
    def backend(self, emulator: HnsEmulator, container: str) -> Iterator[AzureBackend]:
        emulator.fail_account_info(DENIED)
        with AzureBackend(
            container,
            connection_string=emulator.connection_string,
            reject_write_under_file_ancestor=True,
        ) as backend:
            backend.exists("probe")  # detection: denied, flat
            assert backend.resolve("x").details["strategy"] == "flat"
            yield backend
