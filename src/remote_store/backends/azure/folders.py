"""Bulk deletion: blob batch requests of up to 256 deletes, with a per-blob fallback."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from azure.core.exceptions import HttpResponseError

from remote_store.backends.azure import errors as azerr
from remote_store.backends.azure.errors import translate
from remote_store.backends.azure.strategy import AzureContext

log = logging.getLogger("remote_store.azure")

#: The Blob Batch API's limit of sub-requests per request.
BATCH_SIZE = 256


def delete_names(ctx: AzureContext, names: list[str], folder: str) -> int:
    """Delete up to `BATCH_SIZE` blobs in one batch request; return how many went.

    Blobs already gone count as deleted. Where the batch API is refused (some emulators,
    proxies and SAS scopes), fall back to parallel single deletes."""
    if not names:
        return 0
    with translate("delete_folder", folder):
        try:
            responses = list(ctx.container.delete_blobs(*names, raise_on_any_failure=False))
        except HttpResponseError as exc:
            status = azerr.status_of(exc)
            if status is None or status in (408, 429) or status >= 500:
                raise
            log.debug("blob batch refused (HTTP %s); deleting one by one", status)
            return _delete_each(ctx, names, folder)
    for name, response in zip(names, responses, strict=True):
        if response.status_code not in (200, 202, 404):
            raise azerr.map_error(HttpResponseError(response=response), "delete_folder", name)
    return len(names)


def _delete_each(ctx: AzureContext, names: list[str], folder: str) -> int:
    def one(name: str) -> None:
        with translate("delete_folder", name):
            try:
                ctx.blob(name).delete_blob()
            except HttpResponseError as exc:
                if not azerr.is_missing(exc):
                    raise

    workers = max(1, min(ctx.transfer.max_concurrency, len(names)))
    with ThreadPoolExecutor(workers, thread_name_prefix="azure-delete") as pool:
        list(pool.map(one, names))
    return len(names)
