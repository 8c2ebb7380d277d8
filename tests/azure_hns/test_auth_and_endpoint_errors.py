"""A wrong credential is reported as such, not as a failed namespace detection; an endpoint
that does not answer is named in the error."""

from __future__ import annotations

import logging
import re
import socket

import pytest

from remote_store.backends.azure import AzureBackend
from remote_store.config import RetryPolicy
from remote_store.errors import BackendUnavailable, PermissionDenied
from tests.azure_support import ACCOUNT, ACCOUNT_KEY
from tests.hns_emulator import HnsEmulator

FAST = RetryPolicy(attempts=2, backoff_base=0.01, backoff_max=0.02, timeout=5.0)
WRONG_KEY = "V3Jvbmcta2V5" + "A" * 76 + "=="


def test_a_wrong_key_is_not_blamed_on_namespace_detection(
    hns_emulator: HnsEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """AZ-018: the HNS emulator (like Azure) answers a bad signature with 403
    AuthenticationFailed: the call raises PermissionDenied, no warning about the
    hierarchical namespace is logged, and the backend did not settle on a strategy."""
    conn = re.sub(r"AccountKey=[^;]+", f"AccountKey={WRONG_KEY}", hns_emulator.connection_string)
    backend = AzureBackend("fsys", connection_string=conn, retry=FAST)
    with (
        caplog.at_level(logging.WARNING, logger="remote_store"),
        pytest.raises(PermissionDenied) as caught,
    ):
        backend.read_bytes("x")
    assert caught.value.service_code == "AuthenticationFailed"
    assert not [r for r in caplog.records if "namespace" in r.getMessage()]
    assert "undecided" in repr(backend)
    backend.close()


def test_an_endpoint_that_does_not_answer_is_named() -> None:
    """AZ-018: the message names scheme, host and port (never a path or query)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/{ACCOUNT}"
    backend = AzureBackend("cont", account_url=url, account_key=ACCOUNT_KEY, hns=False, retry=FAST)
    with backend, pytest.raises(BackendUnavailable) as caught:
        backend.read_bytes("x")
    assert f"(endpoint http://127.0.0.1:{port})" in str(caught.value)
    assert ACCOUNT_KEY not in str(caught.value)
