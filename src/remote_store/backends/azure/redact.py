"""Keep SAS signatures out of other libraries' log records.

urllib3 logs every request line at DEBUG, query string included, so a SAS token's
``sig=`` would reach any handler that listens at DEBUG. A filter on those loggers
rewrites the signature (and an ``AccountKey=``) to ``REDACTED`` before any handler sees
the record. Installed once, when the Azure backend is imported.
"""

from __future__ import annotations

import logging
import re

_SECRET = re.compile(r"(?i)((?:sig|accountkey|sharedaccesssignature)=)[^&\s;'\"]+")
_LOGGERS = ("urllib3.connectionpool", "urllib3.poolmanager", "urllib3.util.retry")


def redact(text: str) -> str:
    """*text* with every SAS signature and account key replaced by ``REDACTED``."""
    return _SECRET.sub(r"\1REDACTED", text)


class RedactSecrets(logging.Filter):
    """Rewrites a record whose message holds a signature or key; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_FILTER = RedactSecrets()


def install() -> None:
    """Add the filter to the loggers that print request URLs (idempotent)."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
