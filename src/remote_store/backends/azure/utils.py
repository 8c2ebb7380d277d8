"""Azure helpers that stand beside a backend: `AzureUtils`."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from remote_store.backends.azure.clients import account_hns, build_settings, service_client
from remote_store.backends.azure.retry import call_scope
from remote_store.backends.azure.strategy import DEFAULT_MAX_CONCURRENCY
from remote_store.backends.azure.urls import check_container
from remote_store.errors import BackendUnavailable, ConfigError, PermissionDenied, RemoteStoreError


class AzureUtils:
    """One-shot Azure helpers for decisions a user wants to make before building a backend."""

    @staticmethod
    def detect_hns(
        container: str | None = None,
        *,
        account_name: str | None = None,
        account_url: str | None = None,
        account_key: Any = None,
        sas_token: Any = None,
        connection_string: Any = None,
        credential: Any | None = None,
        client_options: dict[str, Any] | None = None,
        retry: Any = None,
    ) -> bool:
        """Whether the storage account has a hierarchical namespace (ADLS Gen2): one
        GetAccountInfo request, with the same connection options as `AzureBackend`.

        Pass the result as ``AzureBackend(..., hns=...)``. Unlike the backend's own
        detection, which falls back to the flat strategy when the account refuses to
        answer, this never guesses: any failure raises.

        Args:
            container: Optional. When given, the request is sent on the container (a
                container-scoped SAS may do that, not an account-level one); otherwise
                on the account.
            account_name, account_url, account_key, sas_token, connection_string,
                credential, client_options, retry: as for `AzureBackend`.

        Returns:
            ``True`` for a hierarchical namespace, ``False`` for flat Blob Storage (also
            when the service does not report it, like emulators without HNS).

        Raises:
            ConfigError: The options are invalid, or the endpoint answered in a way
                Azure Storage does not (a wrong URL or account).
            PermissionDenied: The credential was refused, or may not ask.
            BackendUnavailable: The endpoint could not be reached, or kept failing.

        No message names a credential.
        """
        if container is not None:
            check_container(container)
        settings = build_settings(
            container or "",
            account_name=account_name,
            account_url=account_url,
            account_key=account_key,
            sas_token=sas_token,
            connection_string=connection_string,
            credential=credential,
            client_options=client_options,
            retry=retry,
            max_concurrency=DEFAULT_MAX_CONCURRENCY,
        )
        service = service_client(settings)
        try:
            client = service.get_container_client(container) if container else service
            with call_scope(settings.retry):
                return account_hns(client)
        except (PermissionDenied, BackendUnavailable, ConfigError):
            raise
        except RemoteStoreError as error:
            # Any other answer (404, 400, ...) means the endpoint or account is not what
            # the options say: a configuration problem, not a fact about the namespace.
            raise ConfigError(
                f"AzureUtils.detect_hns: {error.message}; check account_name, account_url "
                "or the connection string's endpoint",
                backend="azure",
            ) from error
        finally:
            with suppress(Exception):
                service.close()
            if settings.owns_credential:
                with suppress(Exception):
                    settings.credential.close()


__all__ = ["AzureUtils"]
