"""Options -> validated settings, credentials in the documented order, SDK clients."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from azure.core.credentials import AzureNamedKeyCredential
from azure.storage.blob import BlobServiceClient, ContainerClient

from remote_store.backends.azure.errors import translate
from remote_store.backends.azure.redact import redact
from remote_store.backends.azure.retry import DEFAULT_RETRY, ServiceRetry
from remote_store.backends.azure.strategy import (
    MAX_BLOCK_SIZE,
    MAX_SINGLE_PUT_SIZE,
    Transfer,
)
from remote_store.backends.azure.urls import (
    account_name_of,
    account_url_for,
    blob_endpoint,
    check_account_name,
    check_connection_string,
)
from remote_store.config import RetryPolicy
from remote_store.errors import ConfigError
from remote_store.extras import install_hint

INSTALL_HINT = install_hint("azure")

#: client_options keys that size transfers; read by the backend and passed to the SDK.
_TRANSFER_KEYS = {
    "max_single_put_size": ("single_put_size", MAX_SINGLE_PUT_SIZE),
    "max_block_size": ("block_size", MAX_BLOCK_SIZE),
    "max_single_get_size": ("first_get_size", None),
    "max_chunk_get_size": ("chunk_get_size", None),
}


def reveal(value: Any, name: str) -> str | None:
    """The clear text of a str or `Secret` option (anything with ``reveal()``)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value
    elif callable(getattr(value, "reveal", None)):
        text = value.reveal()
    else:
        raise ConfigError(f"{name} must be a str or Secret, got {type(value).__name__}")
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{name} must not be empty")
    return text.strip()


@dataclass
class Settings:
    """Validated options: where to connect and how, without credentials in any repr."""

    container: str
    endpoint: str | None
    account_name: str | None
    transfer: Transfer
    client_kwargs: dict[str, Any] = field(repr=False)
    connection_string: str | None = field(default=None, repr=False)
    credential: Any = field(default=None, repr=False)
    owns_credential: bool = False
    retry: RetryPolicy = DEFAULT_RETRY

    def sdk_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for one SDK client. Each client gets its own `ServiceRetry`
        (a pipeline policy links to the next one, so it must not be shared between
        pipelines); ``client_options["retry_policy"]`` replaces it."""
        return {"retry_policy": ServiceRetry(self.retry), **self.client_kwargs}


def build_settings(
    container: str,
    *,
    account_name: str | None,
    account_url: str | None,
    account_key: Any,
    sas_token: Any,
    connection_string: Any,
    credential: Any,
    client_options: Mapping[str, Any] | None,
    retry: Any,
    max_concurrency: int,
) -> Settings:
    """Check the options and resolve the credential (order: account_key, sas_token,
    credential, then `DefaultAzureCredential`)."""
    key = reveal(account_key, "account_key")
    sas = reveal(sas_token, "sas_token")
    conn = reveal(connection_string, "connection_string")
    if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int):
        raise ConfigError(f"max_concurrency must be an int >= 1, got {max_concurrency!r}")
    if max_concurrency < 1:
        raise ConfigError(f"max_concurrency must be >= 1, got {max_concurrency}")
    if client_options is not None and not isinstance(client_options, Mapping):
        raise ConfigError(f"client_options must be a mapping, got {type(client_options).__name__}")
    given = [
        n for n, v in (("account_key", key), ("sas_token", sas), ("credential", credential)) if v
    ]
    if len(given) > 1:
        raise ConfigError(f"contradictory credentials: pass only one of {', '.join(given)}")
    if account_url is not None and not _header_safe(account_name):
        # Its form is the service's business here, but it goes into the shared-key
        # Authorization header. (Alone, its form is checked where the URL is built.)
        raise ConfigError("account_name must be a non-empty str without spaces or controls")
    options = dict(client_options or {})
    # Plain http is refused for non-loopback hosts unless the caller opts in explicitly.
    allow_insecure = bool(options.pop("allow_insecure", False))
    transfer = _transfer(options, max_concurrency)
    policy = RetryPolicy.from_option(retry, DEFAULT_RETRY)
    kwargs = {**_sdk_transfer(transfer), **options}

    if conn is not None:
        check_connection_string(conn, allow_insecure=allow_insecure)
        if account_name is not None or account_url is not None:
            raise ConfigError("pass connection_string, or account_name/account_url, not both")
        if key or sas:
            raise ConfigError("connection_string carries its own credential: drop " + given[0])
        if credential is not None and _has_secret(conn):
            raise ConfigError("connection_string already has AccountKey or a SAS: drop credential")
        return Settings(container, None, None, transfer, kwargs, conn, credential, retry=policy)

    if account_url is None and account_name is None:
        raise ConfigError(
            "no endpoint: pass account_name, account_url or connection_string "
            "(for Azurite, the emulator's connection string)"
        )
    # The account name's form is checked only where a URL is built from it: with an
    # account_url (or a connection string) the endpoint is the service's to judge, and
    # emulators and other clouds use names Azure's public endpoints would refuse.
    endpoint = (
        blob_endpoint(account_url, allow_insecure=allow_insecure)
        if account_url
        else account_url_for(check_account_name(account_name))
    )
    derived = account_name_of(endpoint)
    if account_name is not None and derived is not None and derived != account_name:
        raise ConfigError(
            f"account_name {account_name!r} does not match account_url (account {derived!r})"
        )
    name = account_name or derived
    owned = False
    if key:
        if not name:
            raise ConfigError("account_key needs account_name (it cannot be read from the URL)")
        resolved: Any = AzureNamedKeyCredential(name, key)
    elif sas:
        resolved = sas.lstrip("?")
    elif credential is not None:
        resolved = credential
    else:
        resolved, owned = _default_credential(), True
    return Settings(container, endpoint, name, transfer, kwargs, None, resolved, owned, policy)


def _header_safe(name: object) -> bool:
    if name is None:
        return True
    return (
        isinstance(name, str)
        and bool(name)
        and name.isprintable()
        and not any(c.isspace() for c in name)
    )


def _has_secret(conn: str) -> bool:
    lowered = conn.lower()
    return "accountkey=" in lowered or "sharedaccesssignature=" in lowered


def _default_credential() -> Any:
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError:
        raise ConfigError(
            "no credential given and azure-identity is not installed, so "
            f"DefaultAzureCredential is unavailable: {INSTALL_HINT}, or pass account_key, "
            "sas_token, connection_string or credential"
        ) from None
    return DefaultAzureCredential()


def _transfer(options: dict[str, Any], max_concurrency: int) -> Transfer:
    values: dict[str, int] = {}
    for option, (attribute, limit) in _TRANSFER_KEYS.items():
        if option not in options:
            continue
        value = options[option]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"client_options[{option!r}] must be a positive int, got {value!r}")
        if limit is not None and value > limit:
            raise ConfigError(f"client_options[{option!r}] exceeds Azure's limit of {limit}")
        values[attribute] = value
    return Transfer(max_concurrency=max_concurrency, **values)


def _sdk_transfer(transfer: Transfer) -> dict[str, Any]:
    # The same sizes for the SDK, so clients obtained with unwrap() behave alike.
    return {
        "max_single_put_size": transfer.single_put_size,
        "max_block_size": transfer.block_size,
        "min_large_block_upload_threshold": 1,
        "max_single_get_size": transfer.first_get_size,
        "max_chunk_get_size": transfer.chunk_get_size,
    }


def service_client(settings: Settings) -> BlobServiceClient:
    """The Blob service client (no request is sent)."""
    try:
        if settings.connection_string is not None:
            return BlobServiceClient.from_connection_string(
                settings.connection_string, credential=settings.credential, **settings.sdk_kwargs()
            )
        return BlobServiceClient(
            str(settings.endpoint), credential=settings.credential, **settings.sdk_kwargs()
        )
    except ValueError as error:
        # e.g. "Token credential is only supported with HTTPS"; the SDK's text may quote the
        # connection string, so it is redacted and the original is not chained.
        message = redact(str(error))
        raise ConfigError(f"the Azure SDK refused this configuration: {message}") from None


def account_hns(client: BlobServiceClient | ContainerClient) -> bool:
    """Ask the account, in one GetAccountInfo, whether it has a hierarchical namespace.

    On a `ContainerClient` the request is container-level, which a container-scoped SAS may
    send. A service that does not report it (``x-ms-is-hns-enabled`` is absent before REST
    version 2019-07-07, and in Azurite's container-level answer) has none. Failures raise
    the library's errors (`PermissionDenied`, `BackendUnavailable`, ...)."""
    with translate("detect hierarchical namespace", None):
        info = client.get_account_information()
    return bool(info.get("is_hns_enabled"))
