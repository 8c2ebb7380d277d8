"""Azure Blob Storage / ADLS Gen2 backend (needs the ``azure`` extra)."""

from remote_store.backends.azure import redact
from remote_store.backends.azure.backend import AzureBackend
from remote_store.backends.azure.urls import AzureLocation, parse_url
from remote_store.backends.azure.utils import AzureUtils

redact.install()  # no SAS signature in urllib3's DEBUG request lines

__all__ = ["AzureBackend", "AzureLocation", "AzureUtils", "parse_url"]
