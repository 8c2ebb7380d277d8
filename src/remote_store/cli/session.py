"""Opening stores for addresses: configured stores, local paths, and Azure URLs.

Every store is built through a `Registry`, so configured backends, ad-hoc local folders and
Azure URLs share one code path (validation, lazy build, close). Stores opened for the same
local folder or Azure container share a backend, which lets copies between them run
server-side and moves stay atomic.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from remote_store import paths
from remote_store.cli.addresses import Address, AzureUrl, SftpUrl, parse_address
from remote_store.cli.discovery import FoundConfig
from remote_store.cli.failures import about
from remote_store.config import BackendConfig, RegistryConfig, StoreProfile
from remote_store.errors import ConfigError, InvalidArgument, IsAFolder
from remote_store.models import FileInfo
from remote_store.registry import Registry
from remote_store.store import Store


@dataclass(frozen=True)
class Location:
    """An address opened: the *store* and the *key* inside it that the address names."""

    store: Store
    key: str
    address: Address
    prefix: str  # what to put before a key to show it the way the user addressed it

    def file_info(self, key: str | None = None) -> FileInfo | None:
        """The file at *key* (default: this location's), or None for a folder or nothing."""
        key = self.key if key is None else key
        if not key:
            return None
        try:
            return self.store.head(key)
        except IsAFolder:
            return None

    def about(self) -> AbstractContextManager[None]:
        """Errors raised inside name this location as the user wrote it."""
        return about(self.show(), self.key)

    def child(self, key: str) -> Location:
        """The location of *key* in the same store."""
        return Location(self.store, key, self.address, self.prefix)

    def show(self, key: str | None = None) -> str:
        """*key* (default: this location's) written as an address the user could type."""
        key = self.key if key is None else key
        if self.address.kind == "local":
            return _local_display(
                os.path.join(self.prefix, *key.split("/")) if key else self.prefix
            )
        return f"{self.prefix}{key}"


class Session:
    """The configured registry plus the ad-hoc stores one command opens; close it once."""

    def __init__(self, found: FoundConfig, env: Mapping[str, str] | None = None) -> None:
        self.found = found
        self.registry = Registry(found.config)
        self._env = os.environ if env is None else env
        self._adhoc: dict[tuple[str, ...], Registry] = {}

    @property
    def store_names(self) -> list[str]:
        return list(self.found.config.stores)

    def parse(self, text: str) -> Address:
        return parse_address(text, self.found.config.stores)

    def open(self, address: Address, *, anchor: str | None = None) -> Location:
        """Open the store behind *address*. A local path is rooted at *anchor* (an existing
        folder above it) or at its nearest existing folder."""
        if address.kind == "store":
            assert address.store is not None
            store = self.registry.get_store(address.store)
            return Location(store, _key(address.path), address, f"{address.store}:")
        if address.kind == "azure":
            assert address.azure is not None
            store = self.adhoc_store("azure", azure_options(address.azure, self._env))
            return Location(store, _key(address.path), address, address.azure.prefix())
        if address.kind == "sftp":
            assert address.sftp is not None
            store = self.adhoc_store("sftp", sftp_options(address.sftp, self._env))
            return Location(store, _key(address.path), address, address.sftp.prefix())
        if address.kind == "s3":
            assert address.bucket is not None
            store = self.adhoc_store("s3", {"bucket": address.bucket})
            return Location(store, _key(address.path), address, f"s3://{address.bucket}/")
        if address.kind == "local":
            full = os.path.abspath(address.path)
            root = anchor if anchor is not None else existing_folder(full)
            rel = os.path.relpath(full, root)
            key = "" if rel == "." else _key(rel.replace(os.sep, "/"))
            store = self.adhoc_store("local", {"base_path": root, "create": False})
            return Location(store, key, address, root)
        raise InvalidArgument("'-' (standard input/output) is not a store location")

    def adhoc_store(self, backend_type: str, options: Mapping[str, Any]) -> Store:
        """A store on a backend of *backend_type* built from *options*, one per distinct
        options, through the same Registry machinery as configured stores."""
        ident = (backend_type, *(f"{k}={options[k]}" for k in sorted(options)))
        registry = self._adhoc.get(ident)
        if registry is None:
            config = RegistryConfig(
                backends={"adhoc": BackendConfig(backend_type, dict(options))},
                stores={"adhoc": StoreProfile("adhoc")},
            )
            registry = self._adhoc[ident] = Registry(config)
        return registry.get_store("adhoc")

    def close(self) -> None:
        for registry in [*self._adhoc.values(), self.registry]:
            registry.close()
        self._adhoc.clear()


def existing_folder(full: str) -> str:
    """*full* if it is a folder, else its nearest existing parent folder."""
    current = full
    while not os.path.isdir(current):
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return current


def common_anchor(*fulls: str) -> str:
    """The deepest existing folder above all of *fulls*: one local backend for both ends of
    a local-to-local transfer, so a move is a rename."""
    return existing_folder(os.path.commonpath([existing_folder(f) for f in fulls]))


_ACCOUNT_IN_CONNECTION = re.compile(r"(?:^|;)\s*AccountName=([^;]+)", re.I)


def azure_options(url: AzureUrl, env: Mapping[str, str]) -> dict[str, Any]:
    """Backend options for *url* with credentials from the environment, in the order the
    Azure CLI and adlfs use: a connection string, else the account (from the URL or
    ``AZURE_STORAGE_ACCOUNT_NAME``) with a key, a SAS token, or `DefaultAzureCredential`."""
    options: dict[str, Any] = {"container": url.container}
    connection = env.get("AZURE_STORAGE_CONNECTION_STRING")
    if connection:
        found = _ACCOUNT_IN_CONNECTION.search(connection)
        if url.account and found and found.group(1).strip().lower() != url.account:
            raise ConfigError(
                f"AZURE_STORAGE_CONNECTION_STRING is for account {found.group(1).strip()!r} "
                f"but the URL names {url.account!r}; unset it or use a URL of that account"
            )
        options["connection_string"] = connection
        return options
    account = (
        url.account or env.get("AZURE_STORAGE_ACCOUNT_NAME") or env.get("AZURE_STORAGE_ACCOUNT")
    )
    if not account:
        raise ConfigError(
            f"az://{url.container}/... names no storage account: set "
            "AZURE_STORAGE_ACCOUNT_NAME or AZURE_STORAGE_CONNECTION_STRING, or write "
            f"abfss://{url.container}@ACCOUNT.dfs.core.windows.net/PATH"
        )
    if url.suffix == "core.windows.net":
        options["account_name"] = account
    else:
        options["account_url"] = f"https://{account}.blob.{url.suffix}"
    key = env.get("AZURE_STORAGE_ACCOUNT_KEY") or env.get("AZURE_STORAGE_KEY")
    sas = env.get("AZURE_STORAGE_SAS_TOKEN")
    if key:
        options["account_key"] = key
    elif sas:
        options["sas_token"] = sas
    return options


def sftp_options(url: SftpUrl, env: Mapping[str, str]) -> dict[str, Any]:
    """Backend options for an ``sftp://`` server, rooted at ``/``, with credentials from the
    environment: ``SFTP_KEY_FILE`` (+ ``SFTP_KEY_PASSPHRASE``) and/or ``SFTP_PASSWORD``,
    else the first of ``~/.ssh/id_ed25519``, ``id_ecdsa``, ``id_rsa``. Host keys: the lines
    in ``SFTP_KNOWN_HOSTS`` and the file ``SFTP_KNOWN_HOSTS_FILE``, else
    ``~/.ssh/known_hosts``; ``SFTP_HOST_KEY_POLICY=accept-new`` trusts an unknown key."""
    options: dict[str, Any] = {"host": url.host, "port": url.port, "base_path": "/"}
    username = url.username or env.get("SFTP_USER")
    if username:
        options["username"] = username
    ssh = Path(env.get("HOME") or Path.home()) / ".ssh"
    key = env.get("SFTP_KEY_FILE")
    password = env.get("SFTP_PASSWORD")
    if not key and not password:
        key = next(
            (str(ssh / n) for n in ("id_ed25519", "id_ecdsa", "id_rsa") if (ssh / n).is_file()),
            None,
        )
    if not key and not password:
        raise ConfigError(
            f"{url.prefix()}: no credentials: set SFTP_KEY_FILE (a private key file) or "
            "SFTP_PASSWORD, or configure a store of type sftp"
        )
    if key:
        options["pkey"] = key
        if env.get("SFTP_KEY_PASSPHRASE"):
            options["passphrase"] = env["SFTP_KEY_PASSPHRASE"]
    if password:
        options["password"] = password
    if env.get("SFTP_KNOWN_HOSTS"):
        options["known_host_keys"] = env["SFTP_KNOWN_HOSTS"].splitlines()
    known_file = env.get("SFTP_KNOWN_HOSTS_FILE") or (
        str(ssh / "known_hosts") if (ssh / "known_hosts").is_file() else None
    )
    if known_file:
        options["host_keys_path"] = known_file
    if env.get("SFTP_HOST_KEY_POLICY"):
        options["host_key_policy"] = env["SFTP_HOST_KEY_POLICY"]
    return options


def _key(text: str) -> str:
    return paths.normalize(text)


def _local_display(full: str) -> str:
    """Paths below the working directory are shown relative to it, like ``ls`` does."""
    rel = os.path.relpath(full)
    return full if rel.startswith("..") else rel
