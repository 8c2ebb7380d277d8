"""Read-only HTTP(S) backend (needs the ``http`` extra)."""

from remote_store.backends.http.backend import HttpBackend, ReadOnlyHttpBackend

__all__ = ["HttpBackend", "ReadOnlyHttpBackend"]
