"""The flat (Blob) strategy: the object-store core over Blob Storage.

Folders are name prefixes, move is a copy pinned to the source's ETag and a delete pinned
to the same ETag (spec 005, OBJ-*). Correct on every account kind: on an HNS account seen
through the Blob API, directories show up as zero-length blobs with ``hdi_isfolder=true``;
they are folder markers, never files.
"""

from __future__ import annotations

from remote_store.backends.azure.blobdata import DATA_CAPABILITIES, BlobObjects
from remote_store.backends.azure.container import ContainerGuard
from remote_store.backends.azure.strategy import AzureContext


class FlatStrategy(ContainerGuard, BlobObjects):
    """Blob Storage without a hierarchical namespace (and the fallback on any account)."""

    kind = "flat"
    capabilities = DATA_CAPABILITIES

    def __init__(self, ctx: AzureContext) -> None:
        super().__init__(ctx)
        # BC-010/BC-011 cost a HEAD per ancestor and a listing per write: opt-in (AZ-037).
        self.check_namespace_on_write = ctx.reject_write_under_file_ancestor
