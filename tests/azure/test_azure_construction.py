"""Construction, validation, credentials, names and clients (AZ-001..)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient
from azure.storage.filedatalake import DataLakeServiceClient, FileSystemClient

from remote_store import BackendConfig, Registry, RegistryConfig, StoreProfile
from remote_store.backends.azure import AzureBackend, parse_url
from remote_store.config import Secret
from remote_store.errors import CapabilityNotSupported, ConfigError, InvalidPath, NotFound
from remote_store.store import Store
from tests.azure_support import ACCOUNT_KEY, Azurite

KEY = ACCOUNT_KEY


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"container": ""}, "non-empty"),
        ({"container": "Bad_Name"}, "not a valid Azure container name"),
        ({"container": "ok-name"}, "no endpoint"),
        ({"account_name": "acct", "account_key": KEY, "sas_token": "sv=1"}, "contradictory"),
        ({"account_name": "acct", "sas_token": "sv=1", "credential": object()}, "contradictory"),
        ({"connection_string": "AccountName=a;AccountKey=k", "account_name": "acct"}, "not both"),
        ({"connection_string": "AccountName=a;AccountKey=k", "account_key": KEY}, "drop"),
        ({"account_url": "https://acct.blob.core.windows.net?sv=1&sig=abc"}, "sas_token"),
        ({"account_url": "ftp://x"}, "http"),
        ({"account_name": "acct", "max_concurrency": 0}, "max_concurrency"),
        ({"account_name": "acct", "hns": "yes"}, "hns"),
        ({"account_name": "acct", "client_options": {"max_block_size": -1}}, "max_block_size"),
        ({"account_name": "Not Valid"}, "account_name"),
        ({"account_name": "acct", "account_key": "  "}, "empty"),
    ],
)
def test_invalid_options(options: dict[str, Any], message: str) -> None:
    """AZ-001..AZ-003"""
    container = options.pop("container", "cont")
    with pytest.raises(ConfigError, match=message):
        AzureBackend(container, **options)


def test_secrets_never_shown(azurite: Azurite) -> None:
    """AZ-004: not in repr, resolve(), errors or logs."""
    secret = "c2VjcmV0LWtleS12YWx1ZQ=="
    backend = AzureBackend("cont", account_name="acct", account_key=Secret(secret))
    assert secret not in repr(backend)
    assert secret not in repr(backend.resolve("a/b"))
    sas = AzureBackend("cont", account_name="acct", sas_token="sv=2023&sig=SECRETSIG")
    assert "SECRETSIG" not in repr(sas) + repr(sas.resolve("k")) + sas.native_path("k")
    with pytest.raises(ConfigError) as caught:
        AzureBackend("cont", account_name="acct", account_key=secret, sas_token="sig=X")
    assert secret not in str(caught.value)


def test_sas_not_in_transport_errors(caplog: pytest.LogCaptureFixture) -> None:
    from remote_store.config import RetryPolicy
    from remote_store.errors import BackendUnavailable

    backend = AzureBackend(
        "cont",
        account_url="http://127.0.0.1:9/devstoreaccount1",
        sas_token="sv=2023&sig=SECRETSIG",
        hns=False,
        retry=RetryPolicy(attempts=1, backoff_base=0, backoff_max=0, jitter=False),
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(BackendUnavailable) as caught:
        backend.read_bytes("x")
    error = caught.value
    chain = [error, error.__cause__, error.__context__]
    assert not any("SECRETSIG" in str(e) for e in chain if e is not None)
    assert "SECRETSIG" not in caplog.text


def test_auth_order_and_ownership() -> None:
    """AZ-005: caller's credential is used as given and never closed."""

    class Credential:
        closed = False

        def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            raise AssertionError("no request expected")

        def close(self) -> None:
            self.closed = True

    credential = Credential()
    backend = AzureBackend("cont", account_name="acct", credential=credential, hns=False)
    backend.close()
    backend.close()  # idempotent
    assert not credential.closed


def test_default_credential_created_and_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    import azure.identity

    made: list[Any] = []

    class Fake:
        def __init__(self) -> None:
            self.closed = False
            made.append(self)

        def get_token(self, *a: Any, **k: Any) -> Any:
            raise AssertionError

        def close(self) -> None:
            self.closed = True

    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", Fake)
    backend = AzureBackend("cont", account_name="acct")
    assert len(made) == 1
    backend.close()
    assert made[0].closed


def test_missing_identity_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "azure.identity", None)
    with pytest.raises(ConfigError, match=r'pip install "azure-core>=1.32"'):
        AzureBackend("cont", account_name="acct")


def test_names_round_trip(azurite: Azurite) -> None:
    """AZ-020: native_path is the blob URL; to_key accepts it and the other forms."""
    backend = AzureBackend("cont", connection_string=azurite.connection_string, hns=False)
    url = backend.native_path("dir/a file.txt")
    assert url == f"{azurite.endpoint}/cont/dir/a%20file.txt"
    assert backend.to_key(url) == "dir/a file.txt"
    assert backend.to_key(backend.native_path("")) == ""
    assert backend.to_key("cont/x/y") == "x/y"
    assert backend.to_key("az://cont/x/y") == "x/y"
    with pytest.raises(InvalidPath):
        backend.to_key("other/x")
    real = AzureBackend("cont", account_name="acct", account_key=KEY)
    assert real.native_path("k") == "https://acct.blob.core.windows.net/cont/k"
    assert real.to_key("abfss://cont@acct.dfs.core.windows.net/a/b") == "a/b"
    with pytest.raises(InvalidPath):
        real.to_key("abfss://cont@other.dfs.core.windows.net/a/b")
    plan = real.resolve("k")
    assert plan.backend == "azure" and plan.details["container"] == "cont"


def test_dfs_account_url_uses_blob_endpoint() -> None:
    backend = AzureBackend("cont", account_url="https://acct.dfs.core.windows.net", account_key=KEY)
    assert backend.native_path("k").startswith("https://acct.blob.core.windows.net/")


def test_parse_url() -> None:
    loc = parse_url("abfss://data@acct.dfs.core.windows.net/raw/2026")
    assert (loc.container, loc.path, loc.account_name) == ("data", "raw/2026", "acct")
    assert loc.account_url == "https://acct.blob.core.windows.net"
    assert parse_url("az://data/x").container == "data"
    assert parse_url("https://acct.blob.core.windows.net/data/a%20b").path == "a b"
    with pytest.raises(InvalidPath):
        parse_url("s3://bucket/key")


def test_from_url(azurite: Azurite, container: str) -> None:
    store = AzureBackend.from_url(
        f"az://{container}/root/sub", connection_string=azurite.connection_string, hns=False
    )
    store.write("f.txt", b"x")
    assert store.root_path == "root/sub"
    assert Store(store.backend).read_bytes("root/sub/f.txt") == b"x"
    store.close()


def test_unwrap(azurite: Azurite) -> None:
    """AZ-021"""
    backend = AzureBackend("cont", connection_string=azurite.connection_string, hns=False)
    assert isinstance(backend.unwrap(ContainerClient), ContainerClient)
    assert isinstance(backend.unwrap(BlobServiceClient), BlobServiceClient)
    fs = backend.unwrap(FileSystemClient)
    assert isinstance(fs, FileSystemClient) and fs.file_system_name == "cont"
    assert backend.unwrap(FileSystemClient) is fs
    assert isinstance(backend.unwrap(DataLakeServiceClient), DataLakeServiceClient)
    with pytest.raises(CapabilityNotSupported):
        backend.unwrap(dict)
    backend.close()


def test_ping(azurite: Azurite, container: str) -> None:
    AzureBackend(container, connection_string=azurite.connection_string, hns=False).ping()
    with pytest.raises(NotFound, match="container"):
        AzureBackend("no-such-cont", connection_string=azurite.connection_string).ping()


def test_registry_and_seed_example(azurite: Azurite, container: str) -> None:
    """AZ-022: the seed's usage example, with Azurite's connection string."""
    config = RegistryConfig(
        backends={
            "my-azure": BackendConfig(
                type="azure",
                options={"container": container, "connection_string": azurite.connection_string},
            ),
        },
        stores={"data": StoreProfile(backend="my-azure", root_path="datasets")},
    )
    with Registry(config) as registry:
        store = registry.get_store("data")
        store.write("report.csv", b"col1,col2\n1,2\n")
        assert store.read_bytes("report.csv") == b"col1,col2\n1,2\n"
    from remote_store.backends import AzureBackend as Exported

    assert Exported is AzureBackend


def test_toml_config(azurite: Azurite, container: str) -> None:
    text = f"""
[backends.az]
type = "azure"
container = "{container}"
connection_string = "{azurite.connection_string}"
hns = false
max_concurrency = 2
[stores.main]
backend = "az"
"""
    with Registry(RegistryConfig.from_toml_string(text)) as registry:
        store = registry.get_store("main")
        store.write("x", b"1")
        assert ACCOUNT_KEY not in repr(registry.get_backend("az"))


def test_az_tls_plain_http_refused_unless_loopback_or_allowed() -> None:
    """A non-TLS endpoint would send the key's signatures and the data in clear text."""
    with pytest.raises(ConfigError, match="http"):
        AzureBackend("c1c", account_url="http://example.com", account_key=ACCOUNT_KEY)
    with pytest.raises(ConfigError, match="http"):
        AzureBackend(
            "c1c",
            connection_string=(
                f"DefaultEndpointsProtocol=http;AccountName=acct;AccountKey={ACCOUNT_KEY};"
                "BlobEndpoint=http://storage.example.com/acct;"
            ),
        )
    allowed = AzureBackend(
        "c1c",
        account_url="http://example.com",
        account_name="example",
        account_key=ACCOUNT_KEY,
        client_options={"allow_insecure": True},
    )
    assert allowed.native_path("a").startswith("http://example.com/")
    loopback = AzureBackend("c1c", account_url="http://127.0.0.1:1/acct", account_key=ACCOUNT_KEY)
    assert loopback.native_path("a").startswith("http://127.0.0.1:1/")


def test_az_token_credential_over_http_is_a_config_error() -> None:
    from azure.core.credentials import AccessToken

    class Token:
        def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
            return AccessToken("t", 0)

    with pytest.raises(ConfigError, match="HTTPS"):
        AzureBackend(
            "c1c",
            account_url="http://example.com",
            account_name="example",
            credential=Token(),
            client_options={"allow_insecure": True},
        )
