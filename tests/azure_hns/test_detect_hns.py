"""`AzureUtils.detect_hns`: one GetAccountInfo, the answer or a typed error (AZ-015..AZ-017)."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime, timedelta

import pytest
from azure.storage.blob import ContainerSasPermissions, generate_container_sas

from remote_store.backends.azure import AzureBackend, AzureUtils
from remote_store.config import RetryPolicy, Secret
from remote_store.errors import BackendUnavailable, ConfigError, PermissionDenied
from tests.azure_support import ACCOUNT, ACCOUNT_KEY, Azurite
from tests.hns_emulator import HnsEmulator

#: A key of the right shape that no emulator accepts.
WRONG_KEY = "V3Jvbmcta2V5LW5vdC10aGUtZW11bGF0b3Jz" + "A" * 50 + "=="
FAST = RetryPolicy(attempts=2, backoff_base=0.01, backoff_max=0.02, timeout=5.0)


def _probes(emulator: HnsEmulator) -> int:
    return sum(1 for r in emulator.requests if r.query.get("restype") == "account")


@pytest.mark.azure
def test_flat_on_azurite(azurite: Azurite) -> None:
    """AZ-015: Azurite has no hierarchical namespace, asked on the account or a container
    (whose answer lacks the header: no HNS), with a connection string or a key."""
    assert AzureUtils.detect_hns(connection_string=azurite.connection_string) is False
    assert AzureUtils.detect_hns("any-name", connection_string=azurite.connection_string) is False
    assert (
        AzureUtils.detect_hns(
            account_url=azurite.endpoint, account_name=ACCOUNT, account_key=Secret(ACCOUNT_KEY)
        )
        is False
    )


@pytest.mark.azure
def test_container_sas_may_ask_its_container(azurite: Azurite) -> None:
    """AZ-015: with container=, a container-scoped SAS is enough (as for the backend)."""
    name = azurite.new_container("sas")
    sas = generate_container_sas(
        ACCOUNT,
        name,
        account_key=ACCOUNT_KEY,
        permission=ContainerSasPermissions(read=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )
    assert AzureUtils.detect_hns(name, account_url=azurite.endpoint, sas_token=sas) is False


def test_hierarchical_on_the_hns_emulator(emulator: HnsEmulator) -> None:
    """AZ-015: one GetAccountInfo each, on the account or on a container, and the same
    answer the backend's own detection gives."""
    emulator.clear_requests()
    assert AzureUtils.detect_hns(connection_string=emulator.connection_string) is True
    assert _probes(emulator) == 1
    assert AzureUtils.detect_hns("any-name", connection_string=emulator.connection_string)
    assert (
        AzureUtils.detect_hns(
            account_url=emulator.blob_url,
            account_name=emulator.account_name,
            account_key=emulator.account_key,
        )
        is True
    )
    assert _probes(emulator) == 3
    assert len(emulator.requests) == 3
    with AzureBackend("any-name", connection_string=emulator.connection_string) as backend:
        assert backend.exists("x") is False
        assert backend.resolve("x").details["hns"] is True


def test_denied_is_raised_not_guessed(emulator: HnsEmulator) -> None:
    """AZ-016: where the backend falls back to flat, detect_hns raises PermissionDenied."""
    emulator.fail_account_info("AuthorizationPermissionMismatch")
    with pytest.raises(PermissionDenied, match="Storage Blob Data"):
        AzureUtils.detect_hns(connection_string=emulator.connection_string)


def test_service_busy_is_unavailable(emulator: HnsEmulator) -> None:
    """AZ-016: a 503 that outlasts the retries is BackendUnavailable (retryable)."""
    emulator.fail_account_info("ServerBusy")
    emulator.clear_requests()
    with pytest.raises(BackendUnavailable) as caught:
        AzureUtils.detect_hns(connection_string=emulator.connection_string, retry=FAST)
    assert caught.value.retryable
    assert _probes(emulator) == FAST.attempts


def _wrong_key(conn: str) -> str:
    return re.sub(r"AccountKey=[^;]+", f"AccountKey={WRONG_KEY}", conn)


@pytest.mark.parametrize("server", [pytest.param("azurite", marks=pytest.mark.azure), "hns"])
def test_wrong_key_is_permission_denied(
    server: str, request: pytest.FixtureRequest, emulator: HnsEmulator
) -> None:
    """AZ-016: Azurite answers a bad signature with 403 AuthorizationFailure, the HNS
    emulator (like Azure) with 403 AuthenticationFailed: both PermissionDenied, and
    neither key in the message or its cause chain."""
    conn = (
        request.getfixturevalue("azurite").connection_string
        if server == "azurite"
        else emulator.connection_string
    )
    with pytest.raises(PermissionDenied) as caught:
        AzureUtils.detect_hns(connection_string=_wrong_key(conn))
    _assert_no_secret(caught.value, WRONG_KEY, ACCOUNT_KEY, emulator.account_key)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_endpoint_is_unavailable() -> None:
    """AZ-016: nothing listening: BackendUnavailable after the retries, no SAS or key in
    the message or anywhere in the cause chain."""
    url = f"http://127.0.0.1:{_closed_port()}/{ACCOUNT}"
    sas = "sv=2023-11-03&sr=c&sp=r&sig=TOPSECRETSIGNATURE"
    for secret in ({"sas_token": sas}, {"account_name": ACCOUNT, "account_key": ACCOUNT_KEY}):
        with pytest.raises(BackendUnavailable) as caught:
            AzureUtils.detect_hns(account_url=url, retry=FAST, **secret)  # type: ignore[arg-type]
        assert "did not answer" in str(caught.value)
        _assert_no_secret(caught.value, "TOPSECRETSIGNATURE", ACCOUNT_KEY)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "no endpoint"),
        ({"account_name": "Not Valid"}, "account_name"),
        ({"account_name": "acct", "account_key": "k", "sas_token": "s"}, "contradictory"),
        ({"connection_string": "AccountName=a;AccountKey=k", "account_name": "a"}, "not both"),
        ({"container": "Bad_Name", "account_name": "acct"}, "container"),
    ],
)
def test_bad_options_are_config_errors(options: dict[str, str], message: str) -> None:
    """AZ-017: invalid options raise ConfigError before any request."""
    with pytest.raises(ConfigError, match=message):
        AzureUtils.detect_hns(**options)  # type: ignore[arg-type]


@pytest.mark.azure
def test_an_endpoint_that_is_not_the_account_is_a_config_error(azurite: Azurite) -> None:
    """AZ-017: an answer that is neither yes, no, denied nor unavailable (here Azurite's
    for an account it does not have) is a ConfigError naming what to check."""
    url = azurite.endpoint.rsplit("/", 1)[0] + "/otheraccount"
    expected = r"ResourceNotFound, HTTP 404.*check account_name"
    with pytest.raises(ConfigError, match=expected) as caught:
        AzureUtils.detect_hns(account_url=url, account_name="otheraccount", account_key=ACCOUNT_KEY)
    _assert_no_secret(caught.value, ACCOUNT_KEY)


def _assert_no_secret(error: BaseException, *secrets: str) -> None:
    seen: BaseException | None = error
    while seen is not None:
        text = f"{seen!s} {seen!r}"
        for secret in secrets:
            assert secret not in text
        seen = seen.__cause__ or seen.__context__
