"""Keep session tokens out of botocore's DEBUG records: it logs each request's headers
(``botocore.endpoint``) and the canonical request it signs (``botocore.auth``), where an
``X-Amz-Security-Token`` would reach any handler listening at DEBUG. The library's
`SecretRedactionFilter` goes on those loggers when the backend is imported."""

from __future__ import annotations

from remote_store.redaction import protect_loggers


def install() -> None:
    """Protect the loggers that print request headers (idempotent)."""
    protect_loggers("botocore.endpoint", "botocore.auth", "botocore.httpsession", "botocore.hooks")
