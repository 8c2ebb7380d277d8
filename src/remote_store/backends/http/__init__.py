"""Read-only HTTP(S) backend (needs ``pip install "remote-store[http]"``)."""

from remote_store.backends.http.backend import HttpBackend, ReadOnlyHttpBackend

__all__ = ["HttpBackend", "ReadOnlyHttpBackend"]
