"""AzureBackend: options, credentials, clients, the namespace decided once, delegation."""

from __future__ import annotations

import logging
import threading
from contextlib import AbstractContextManager, suppress
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import urlsplit

from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import BlobServiceClient, ContainerClient

from remote_store.backend import Backend
from remote_store.backends.azure.clients import account_hns, build_settings, service_client
from remote_store.backends.azure.container import naming
from remote_store.backends.azure.errors import translate
from remote_store.backends.azure.flat import FlatStrategy
from remote_store.backends.azure.hierarchical import HierarchicalStrategy
from remote_store.backends.azure.retry import call_scope
from remote_store.backends.azure.strategy import (
    DEFAULT_MAX_CONCURRENCY,
    AzureContext,
    AzureStrategy,
)
from remote_store.backends.azure.urls import check_container, native_url, parse_url
from remote_store.capabilities import CapabilitySet
from remote_store.errors import (
    CapabilityNotSupported,
    ConfigError,
    InvalidArgument,
    InvalidPath,
    PermissionDenied,
)
from remote_store.frozen import FrozenMap
from remote_store.models import ResolutionPlan
from remote_store.secret import Secret

if TYPE_CHECKING:
    from remote_store.store import Store

T = TypeVar("T")
log = logging.getLogger("remote_store.azure")
_CREDENTIAL_OPTIONS = ("account_key", "sas_token", "connection_string", "credential")


def _credentials(given: dict[str, Any]) -> dict[str, Any]:
    return {name: given[name] for name in _CREDENTIAL_OPTIONS}


def _secret(value: Any) -> Any:
    return Secret(value) if isinstance(value, str) else value


class AzureBackend(Backend):
    """Azure Blob Storage and ADLS Gen2.

    Whether the account has a hierarchical namespace is asked once, on first use (or taken
    from ``hns=``), and picks the strategy every operation goes through."""

    name: ClassVar[str] = "azure"
    supported_capabilities: ClassVar[CapabilitySet] = CapabilitySet(
        FlatStrategy.capabilities | HierarchicalStrategy.capabilities
    )

    def __init__(
        self,
        container: str,
        *,
        account_name: str | None = None,
        account_url: str | None = None,
        account_key: Any = None,
        sas_token: Any = None,
        connection_string: Any = None,
        credential: Any | None = None,
        client_options: dict[str, Any] | None = None,
        retry: Any = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        reject_write_under_file_ancestor: bool = False,
        hns: bool | None = None,
        create_container: bool = False,
    ) -> None:
        check_container(container)
        if hns is not None and not isinstance(hns, bool):
            raise ConfigError(f"hns must be True, False or None (detect), got {hns!r}")
        if not isinstance(reject_write_under_file_ancestor, bool):
            raise ConfigError("reject_write_under_file_ancestor must be a bool")
        if not isinstance(create_container, bool):
            raise ConfigError("create_container must be a bool")
        settings = build_settings(
            container,
            account_name=account_name,
            account_url=account_url,
            account_key=account_key,
            sas_token=sas_token,
            connection_string=connection_string,
            credential=credential,
            client_options=client_options,
            retry=retry,
            max_concurrency=max_concurrency,
        )
        self._settings = settings
        # What another process needs to build the same backend (a pickled Store); str
        # credentials as Secret, which pickles by value and never prints.
        self._options: dict[str, Any] = {
            "container": container,
            "account_name": account_name,
            "account_url": account_url,
            **{name: _secret(value) for name, value in _credentials(locals()).items()},
            "client_options": client_options,
            "retry": retry,
            "max_concurrency": max_concurrency,
            "reject_write_under_file_ancestor": reject_write_under_file_ancestor,
            "hns": hns,
            "create_container": create_container,
        }
        self._retry = settings.retry
        self._container_name = container
        self._hns = hns
        self._service = service_client(settings)
        self._container = self._service.get_container_client(container)
        self._endpoint = self._service.url.split("?", 1)[0].rstrip("/")
        self._account = self._service.account_name
        self._context = AzureContext(
            container=self._container,
            container_name=container,
            transfer=settings.transfer,
            reject_write_under_file_ancestor=reject_write_under_file_ancestor,
            filesystem=self._filesystem_client,
        )
        self._lock = threading.Lock()
        self._create_on_first_use = create_container
        self._selected: AzureStrategy | None = None
        self._datalake: dict[str, Any] = {}
        self._clients_lock = threading.Lock()

    def _rebuild_options(self) -> dict[str, Any]:
        credential = self._options["credential"]
        if credential is not None and not isinstance(credential, Secret):
            raise InvalidArgument(
                f"a Store over Azure with a {type(credential).__name__} credential object "
                "cannot be pickled; pass no credential (each process then uses "
                "DefaultAzureCredential) or a key, SAS or connection string",
                backend=self.name,
            )
        return dict(self._options)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Store:
        """A `Store` rooted at the path of an ``abfss://container@account.dfs.core.windows.net/
        path``, ``az://container/path`` or blob ``https://`` URL; *options* are the
        constructor's (credentials, and the account for ``az://``)."""
        from remote_store.store import Store

        location = parse_url(url)
        if location.account_url and "connection_string" not in options:
            options.setdefault("account_url", location.account_url)
        query = urlsplit(url).query if isinstance(url, str) else ""
        if query:
            # A SAS URL copied from the portal carries its token: keep it, never drop it.
            if "sig=" not in query:
                raise ConfigError(
                    "the URL has a query string that is not a SAS token; remove it "
                    "(credentials go in account_key=, sas_token= or credential=)"
                )
            if any(options.get(name) is not None for name in _CREDENTIAL_OPTIONS):
                raise ConfigError(
                    "the URL carries a SAS token and a credential option is given too; "
                    "give one of them"
                )
            options["sas_token"] = Secret(query)
        return Store(cls(location.container, **options), root_path=location.path)

    def __repr__(self) -> str:
        strategy = self._selected.kind if self._selected else "undecided"
        return (
            f"AzureBackend(container={self._container_name!r}, account={self._account!r}, "
            f"hns={self._hns!r}, strategy={strategy!r})"
        )

    # ------------------------------------------------------------------ strategy

    @property
    def capabilities(self) -> CapabilitySet:
        with call_scope(self._retry):
            return self._strategy().capabilities

    def _operations(self) -> AzureStrategy:
        return self._strategy()

    def _call_scope(self) -> AbstractContextManager[object]:
        # One deadline per public call: every request it makes, retries included, shares it.
        return call_scope(self._retry)

    def _strategy(self) -> AzureStrategy:
        selected = self._selected
        if selected is not None:
            return selected
        with self._lock:  # single flight: concurrent first calls wait for one detection
            if self._selected is None:
                if self._create_on_first_use:
                    self._create()
                self._selected = self._pick(self._detect_hns())
            return self._selected

    def create_container(self) -> bool:
        """Create the container (on an HNS account: the file system); ``True`` if this call
        created it, ``False`` if it was there. One request. For a store to create its
        container on first use instead, pass ``create_container=True``."""
        with self._own_call():
            return self._create()

    def _create(self) -> bool:
        with translate("create container", None):
            try:
                self._container.create_container()
            except ResourceExistsError:
                return False
        log.info("created container %r", self._container_name)
        return True

    def _detect_hns(self) -> bool:
        if self._hns is not None:
            return self._hns
        try:
            # Container-level GetAccountInfo: a container-scoped SAS may call it.
            hns = account_hns(self._container)
        except PermissionDenied as error:
            if error.service_code == "AuthenticationFailed":
                # The credential itself is wrong: every request will fail the same way, so
                # say that, instead of blaming (and skipping) the namespace detection.
                raise
            log.warning(
                "AzureBackend(container=%r): cannot ask the account whether it has a "
                "hierarchical namespace (permission denied); using the flat Blob strategy. "
                "Pass hns=True or hns=False to skip this check.",
                self._container_name,
            )
            self._hns = False
            return False
        self._hns = hns
        return hns

    def _pick(self, hns: bool) -> AzureStrategy:
        strategy = HierarchicalStrategy if hns else FlatStrategy
        return strategy(self._context)

    # ------------------------------------------------------------------ names

    def _native_path(self, path: str) -> str:
        """The blob's URL, e.g. ``https://ACCOUNT.blob.core.windows.net/CONTAINER/KEY``."""
        return native_url(self._endpoint, self._container_name, path)

    def _to_key(self, native_path: str) -> str:
        """The key of a blob URL, ``abfss://``/``az://`` URL or ``container/key`` path of
        this backend's container."""
        if "://" in native_path:
            location = parse_url(native_path)
            if location.account_name and self._account and location.account_name != self._account:
                raise InvalidPath(
                    f"{native_path!r} names account {location.account_name!r}, not "
                    f"{self._account!r}",
                    path=native_path,
                )
            container, key = location.container, location.path
        else:
            container, _, key = native_path.lstrip("/").partition("/")
        if container != self._container_name:
            raise InvalidPath(
                f"{native_path!r} is not in container {self._container_name!r}", path=native_path
            )
        return key

    def _resolve(self, path: str) -> ResolutionPlan:
        """Where *path* lives: URL, container, account, strategy. Never credentials."""
        details = {
            "container": self._container_name,
            "account_name": self._account,
            "endpoint": self._endpoint,
            "key": path,
            "hns": self._hns,
            "strategy": self._selected.kind if self._selected else None,
        }
        return ResolutionPlan(
            kind="azure-blob",
            backend=self.name,
            key=path,
            native_path=self.native_path(path),
            details=FrozenMap(details),
        )

    # ------------------------------------------------------------------ clients, lifecycle

    def _unwrap(self, type_hint: type[T]) -> T:
        """The SDK client of type *type_hint*: ``ContainerClient``, ``BlobServiceClient``,
        or (built on first request) ``FileSystemClient`` / ``DataLakeServiceClient``."""
        if type_hint is ContainerClient:
            return self._container  # type: ignore[return-value]
        if type_hint is BlobServiceClient:
            return self._service  # type: ignore[return-value]
        name = getattr(type_hint, "__name__", "")
        if name == "FileSystemClient" and type_hint.__module__.startswith("azure.storage.file"):
            return self._filesystem_client()  # type: ignore[no-any-return]
        if name == "DataLakeServiceClient" and type_hint.__module__.startswith("azure.storage.f"):
            return self._datalake_service()  # type: ignore[no-any-return]
        raise CapabilityNotSupported(f"unwrap to {name or type_hint!r}", backend=self.name)

    def _datalake_service(self) -> Any:
        with self._clients_lock:
            client = self._datalake.get("datalake")
            if client is None:
                from azure.storage.filedatalake import DataLakeServiceClient

                s = self._settings
                if s.connection_string is not None:
                    client = DataLakeServiceClient.from_connection_string(
                        s.connection_string, credential=s.credential, **s.sdk_kwargs()
                    )
                else:
                    client = DataLakeServiceClient(
                        str(s.endpoint).replace(".blob.", ".dfs.", 1),
                        credential=s.credential,
                        **s.sdk_kwargs(),
                    )
                self._datalake["datalake"] = client
            return client

    def _filesystem_client(self) -> Any:
        service = self._datalake_service()
        with self._clients_lock:
            client = self._datalake.get("filesystem")
            if client is None:
                client = service.get_file_system_client(self._container_name)
                self._datalake["filesystem"] = client
            return client

    def _ping(self) -> None:
        """One request: the container's properties."""
        with naming(self._container_name, "ping", None), translate("ping", None):
            self._container.get_container_properties()

    def _close(self) -> None:
        """Close the clients this backend built, and a credential it created itself;
        never a credential the caller passed in."""
        for client in [*self._datalake.values(), self._container, self._service]:
            with suppress(Exception):
                client.close()
        self._datalake.clear()
        if self._settings.owns_credential:
            with suppress(Exception):
                self._settings.credential.close()


__all__ = ["AzureBackend"]
