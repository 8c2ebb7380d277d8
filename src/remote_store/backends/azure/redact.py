"""Keep SAS signatures out of urllib3's DEBUG request lines (query strings included):
the library's `SecretRedactionFilter` goes on those loggers when the backend is imported."""

from __future__ import annotations

from remote_store.redaction import protect_loggers, redact

__all__ = ["install", "redact"]


def install() -> None:
    """Protect the loggers that print request URLs (idempotent)."""
    protect_loggers("urllib3.connectionpool", "urllib3.poolmanager", "urllib3.util.retry")
