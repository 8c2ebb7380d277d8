"""An account name's form is checked only where a URL is built from it (AZ-008).

Emulators, sovereign clouds and custom domains use account names that the public cloud's
rule (3-24 lower-case letters and digits) refuses; in a connection string, or beside an
``account_url``, the name is the service's business. An HNS emulator whose account is
called ``Dev_Store-01`` stands for such a service.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from azure.storage.blob import ContainerClient

from remote_store.backends.azure import AzureBackend, AzureUtils, parse_url
from remote_store.errors import ConfigError, InvalidPath
from tests.hns_emulator import HnsEmulator

ODD_NAME = "Dev_Store-01"


@pytest.fixture(scope="module")
def odd_account() -> Iterator[HnsEmulator]:
    with HnsEmulator(account=ODD_NAME) as emulator:
        yield emulator


def test_connection_string_account_name_is_not_judged(odd_account: HnsEmulator) -> None:
    """The connection string's AccountName reaches the service as written."""
    with AzureBackend("names", connection_string=odd_account.connection_string) as backend:
        backend.unwrap(ContainerClient).create_container()
        backend.write("a.txt", b"hello")
        assert backend.read_bytes("a.txt") == b"hello"
        assert backend.resolve("a.txt").details["account_name"] == ODD_NAME
    assert AzureUtils.detect_hns(connection_string=odd_account.connection_string) is True


def test_account_name_beside_an_account_url_is_not_judged(odd_account: HnsEmulator) -> None:
    """With account_url the name only signs requests (shared key): any form goes."""
    with AzureBackend(
        "names-url",
        account_url=odd_account.blob_url,
        account_name=ODD_NAME,
        account_key=odd_account.account_key,
    ) as backend:
        backend.unwrap(ContainerClient).create_container()
        backend.write("b.txt", b"world")
        assert [f.path for f in backend.list_files("")] == ["b.txt"]


@pytest.mark.parametrize("name", [ODD_NAME, "Not Valid", "ab", "a" * 25, "UPPER"])
def test_account_name_that_builds_the_url_is_checked(name: str) -> None:
    """Alone, account_name becomes https://NAME.blob.core.windows.net: its form must be
    Azure's, checked before any request (AZ-001)."""
    with pytest.raises(ConfigError, match="not a valid storage account name"):
        AzureBackend("data", account_name=name)
    with pytest.raises(ConfigError, match="not a valid storage account name"):
        AzureUtils.detect_hns(account_name=name)


def test_url_account_checked_only_when_it_builds_the_host() -> None:
    """``abfss://C@NAME/...`` builds the host from NAME; a full host is taken as given."""
    with pytest.raises(InvalidPath, match="not a storage account name"):
        parse_url(f"abfss://data@{ODD_NAME}/raw")
    assert parse_url("abfss://data@acct/raw").account_url == "https://acct.blob.core.windows.net"
    custom = parse_url(f"abfss://data@{ODD_NAME}.dfs.example.net/raw")
    assert custom.account_url == f"https://{ODD_NAME}.blob.example.net"


@pytest.mark.parametrize("name", ["", " ", "acct\r\nx-ms-evil: 1", "two words", 42])
def test_account_name_beside_a_url_is_still_a_header_value(name: object) -> None:
    """Beside an account_url the name signs requests (``SharedKey NAME:...``): empty,
    whitespace and control characters are refused before any request."""
    with pytest.raises(ConfigError, match="account_name"):
        AzureBackend(
            "data",
            account_url="https://example.blob.core.windows.net",
            account_name=name,  # type: ignore[arg-type]
            account_key="a2V5",
        )
