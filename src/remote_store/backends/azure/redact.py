"""Keep SAS signatures out of urllib3's DEBUG request lines.

urllib3 logs every request line at DEBUG, query string included, so a SAS token's
``sig=`` would reach any handler that listens at DEBUG. The library's
`SecretRedactionFilter` on those loggers rewrites it before any handler sees the record.
Installed once, when the Azure backend is imported.
"""

from __future__ import annotations

import logging

from remote_store.redaction import SecretRedactionFilter, redact

__all__ = ["install", "redact"]

_LOGGERS = ("urllib3.connectionpool", "urllib3.poolmanager", "urllib3.util.retry")
_FILTER = SecretRedactionFilter()


def install() -> None:
    """Add the filter to the loggers that print request URLs (idempotent)."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
