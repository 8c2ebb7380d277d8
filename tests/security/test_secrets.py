"""No secret in any log record, repr, str, error message, traceback or ResolutionPlan
(ERR-008, AZ-004), for every public Store operation on every backend and credential form."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from remote_store.backends import LocalBackend, MemoryBackend
from remote_store.config import RegistryConfig, RetryPolicy, Secret
from remote_store.registry import Registry
from remote_store.store import Store
from tests.azure_support import ACCOUNT, ACCOUNT_KEY, Azurite
from tests.hns_emulator import HnsEmulator
from tests.security.capture import Capture, capturing, drive
from tests.sql_support import Postgres

CLIENT_SECRET = "cs~" + uuid.uuid4().hex + "Zz9"  # a made-up Entra ID client secret
#: Totals over the module, printed at the end (pytest -s) for the closing note.
TOTALS = {"runs": 0, "operations": 0, "texts": 0, "checks": 0, "hits": 0}


def _sas(container: str) -> str:
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    permission = ContainerSasPermissions(
        read=True, write=True, delete=True, list=True, add=True, create=True
    )
    return str(
        generate_container_sas(
            ACCOUNT,
            container,
            account_key=ACCOUNT_KEY,
            permission=permission,
            expiry=datetime.now(UTC) + timedelta(hours=1),
        )
    )


def _sig(sas: str) -> str:
    return parse_qs(sas)["sig"][0]


def _check(capture: Capture, secrets: list[str]) -> None:
    hits = capture.hits(secrets)
    TOTALS["runs"] += 1
    TOTALS["operations"] += capture.operations
    TOTALS["texts"] += len(capture.texts)
    TOTALS["checks"] += capture.checks(secrets)
    TOTALS["hits"] += len(hits)
    assert not hits, [(form[:8] + "...", text[:300]) for form, text in hits[:5]]


def _run(build: Callable[[], Store], secrets: list[str], *extra: object) -> None:
    with capturing() as capture:
        store = build()
        for item in extra:
            capture.add(item)
        drive(store, capture)
    _check(capture, secrets)


def _azure(container: str, **options: Any) -> Callable[[], Store]:
    def build() -> Store:
        from remote_store.backends.azure import AzureBackend

        backend = AzureBackend(container, **options)
        return Store(backend, root_path=f"sec-{uuid.uuid4().hex[:8]}")

    return build


@pytest.fixture
def container(azurite: Azurite) -> str:
    return azurite.new_container()


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    print(f"\nsecret scan: {TOTALS}")


def test_memory_and_local(tmp_path: Path) -> None:
    """The backends without credentials: still nothing of a configured Secret leaks."""
    _run(lambda: Store(MemoryBackend()), [CLIENT_SECRET], Secret(CLIENT_SECRET))
    _run(lambda: Store(LocalBackend(tmp_path)), [CLIENT_SECRET], Secret(CLIENT_SECRET))


@pytest.mark.azure
@pytest.mark.parametrize("wrap", [str, Secret])
def test_azurite_connection_string(azurite: Azurite, container: str, wrap: type) -> None:
    conn = azurite.connection_string
    _run(_azure(container, connection_string=wrap(conn), hns=False), [conn, ACCOUNT_KEY])


@pytest.mark.azure
@pytest.mark.parametrize("wrap", [str, Secret])
def test_azurite_account_key(azurite: Azurite, container: str, wrap: type) -> None:
    options = {"account_url": azurite.endpoint, "account_name": ACCOUNT, "hns": None}
    _run(_azure(container, account_key=wrap(ACCOUNT_KEY), **options), [ACCOUNT_KEY])


@pytest.mark.azure
@pytest.mark.parametrize("wrap", [str, Secret])
def test_azurite_sas(azurite: Azurite, container: str, wrap: type) -> None:
    sas = _sas(container)
    build = _azure(container, account_url=azurite.endpoint, sas_token=wrap(sas), hns=False)
    _run(build, [sas, _sig(sas), ACCOUNT_KEY])


@pytest.mark.azure
def test_azurite_client_secret(azurite: Azurite, container: str) -> None:
    """A client secret whose token endpoint refuses connections: every call fails, typed."""
    from azure.identity import ClientSecretCredential

    credential = ClientSecretCredential(
        "tenant-id",
        "client-id",
        CLIENT_SECRET,
        authority="https://127.0.0.1:9",  # nothing listens: no network, fails fast
        disable_instance_discovery=True,
        retry_total=0,
    )
    build = _azure(
        container,
        account_url=azurite.endpoint.replace("http://", "https://"),
        credential=credential,
        hns=False,
        retry=RetryPolicy(attempts=1),
        client_options={"max_single_put_size": 1024},
    )
    _run(build, [CLIENT_SECRET])


@pytest.mark.azure
def test_registry_config(azurite: Azurite, container: str) -> None:
    """Secrets from a TOML-style config through `${VAR}`: config, registry and store."""
    env = {"AZ_CONN": azurite.connection_string, "AZ_KEY": ACCOUNT_KEY}
    data = {
        "backends": {
            "conn": {"type": "azure", "container": container, "connection_string": "${AZ_CONN}"},
            "key": {
                "type": "azure",
                "container": container,
                "account_url": azurite.endpoint,
                "account_name": ACCOUNT,
                "account_key": "${AZ_KEY}",
                "hns": False,
            },
        },
        "stores": {"a": {"backend": "conn", "root_path": "reg-a"}, "b": {"backend": "key"}},
    }
    config = RegistryConfig.from_dict(data, env=env)
    for name in ("a", "b"):
        with Registry(config) as registry:
            _run(functools.partial(registry.get_store, name), list(env.values()), config, registry)


def test_hns_connection_string_and_key(hns_emulator: HnsEmulator) -> None:
    from azure.storage.blob import BlobServiceClient

    name = f"sec-{uuid.uuid4().hex[:12]}"
    with BlobServiceClient.from_connection_string(hns_emulator.connection_string) as service:
        service.create_container(name)
    conn, key = hns_emulator.connection_string, hns_emulator.account_key
    _run(_azure(name, connection_string=Secret(conn), hns=True), [conn, key])
    _run(
        _azure(
            name,
            account_url=hns_emulator.blob_url,
            account_name=hns_emulator.account_name,
            account_key=key,
        ),
        [key],
    )


def test_hns_sas() -> None:
    """A SAS on an HNS account (an emulator of our own that does not check signatures)."""
    from azure.storage.blob import BlobServiceClient

    with HnsEmulator(auth=False) as emulator:
        name = f"sec-{uuid.uuid4().hex[:12]}"
        with BlobServiceClient.from_connection_string(emulator.connection_string) as service:
            service.create_container(name)
        sas = _sas(name)
        build = _azure(name, account_url=emulator.blob_url, sas_token=sas, hns=True)
        _run(build, [sas, _sig(sas), ACCOUNT_KEY])


@pytest.mark.postgres
@pytest.mark.parametrize("form", ["url", "secret-url", "password-option", "unreachable"])
def test_sql_blob_password(postgres: Postgres, form: str) -> None:
    """SQL-007: a database password in the URL (str or Secret) or as ``password=``, on a
    live server and on a closed port (every operation failing), never shows."""
    from remote_store.backends.sql import SQLBlobBackend

    password = "pw~" + uuid.uuid4().hex + "Q7"
    port = postgres.port if form != "unreachable" else _closed_port()
    plain = f"postgresql+psycopg://postgres@{postgres.host}:{port}/postgres"
    with_password = plain.replace("postgres@", f"postgres:{password}@", 1)

    def build() -> Store:
        if form == "password-option":
            backend = SQLBlobBackend(plain, password=Secret(password), table_name="sec_scan")
        elif form == "secret-url":
            backend = SQLBlobBackend(Secret(with_password), table_name="sec_scan")
        else:
            create = form != "unreachable"
            backend = SQLBlobBackend(with_password, table_name="sec_scan", create_table=create)
        return Store(backend, root_path=f"sec-{uuid.uuid4().hex[:8]}")

    _run(build, [password], Secret(password))


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
