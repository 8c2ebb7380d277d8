"""AZ-019: `AzureBackend.from_url` with a SAS URL (as the portal copies it) keeps the token."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from azure.storage.blob import ContainerSasPermissions, generate_container_sas

from remote_store.backends import AzureBackend
from remote_store.errors import BackendUnavailable, ConfigError, NotFound
from tests.azure_support import ACCOUNT, ACCOUNT_KEY, Azurite

pytestmark = pytest.mark.azure


def _sas(container: str) -> str:
    return generate_container_sas(
        ACCOUNT,
        container,
        account_key=ACCOUNT_KEY,
        permission=ContainerSasPermissions(read=True, write=True, list=True, delete=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )


def test_a_sas_url_keeps_its_token(azurite: Azurite, container: str) -> None:
    sas = _sas(container)
    with AzureBackend.from_url(f"{azurite.endpoint}/{container}/in?{sas}", hns=False) as store:
        store.write("f.txt", b"through the SAS")  # fails without a credential
        assert store.root_path == "in"
        assert store.read_bytes("f.txt") == b"through the SAS"
        assert sas.split("sig=")[1].split("&")[0] not in repr(store.backend)


def test_a_query_that_is_not_a_sas_or_a_second_credential_is_refused(
    azurite: Azurite, container: str
) -> None:
    with pytest.raises(ConfigError, match="not a SAS token"):
        AzureBackend.from_url(f"{azurite.endpoint}/{container}/in?comp=list", hns=False)
    with pytest.raises(ConfigError, match="give one of them"):
        AzureBackend.from_url(
            f"{azurite.endpoint}/{container}/in?{_sas(container)}",
            account_key=ACCOUNT_KEY,
            hns=False,
        )


def test_a_closed_azure_store_says_it_is_closed(azurite: Azurite, container: str) -> None:
    """KRN-006 on Azure: after close(), every call says the backend is closed, not an SDK
    error about a closed transport."""
    store = AzureBackend.from_url(
        f"az://{container}/in", connection_string=azurite.connection_string, hns=False
    )
    store.write("f.txt", b"x")
    store.close()
    for call in (
        lambda: store.read_bytes("f.txt"),
        lambda: store.write("g.txt", b"y"),
        lambda: list(store.list_files("")),
        store.ping,
    ):
        with pytest.raises(BackendUnavailable, match="the azure backend is closed"):
            call()


def test_create_container_on_first_use_and_on_demand(azurite: Azurite) -> None:
    """AZ-095: create_container=True creates a missing container at the first call (one
    request more, once); create_container() says whether it created it."""
    name = f"auto-{int(time.time() * 1000) % 10_000_000}"
    with AzureBackend(
        name, connection_string=azurite.connection_string, hns=False, create_container=True
    ) as backend:
        backend.write("first.txt", b"no NotFound")
        assert backend.read_bytes("first.txt") == b"no NotFound"
        assert backend.create_container() is False
    other = f"{name}-b"
    with AzureBackend(other, connection_string=azurite.connection_string, hns=False) as plain:
        with pytest.raises(NotFound, match="does not exist"):
            plain.write("x.txt", b"x")
        assert plain.create_container() is True
        plain.write("x.txt", b"x")
