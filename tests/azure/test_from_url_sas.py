"""AZ-019: `AzureBackend.from_url` with a SAS URL (as the portal copies it) keeps the token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from azure.storage.blob import ContainerSasPermissions, generate_container_sas

from remote_store.backends import AzureBackend
from remote_store.errors import ConfigError
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
