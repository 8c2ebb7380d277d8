"""Keep session tokens out of botocore's log records.

botocore logs, at DEBUG, each request with its headers (``botocore.endpoint``) and the
canonical request it signs (``botocore.auth``): a session token (``X-Amz-Security-Token``)
would reach any handler listening at DEBUG. A filter on those loggers rewrites it to
``REDACTED`` before any handler sees the record. Installed once, on import.
"""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"(?i)(x-amz-security-token['\"]?\s*[:=]\s*b?['\"]?)[^'\"\s,}&]+")
_LOGGERS = ("botocore.endpoint", "botocore.auth", "botocore.httpsession", "botocore.hooks")


def redact(text: str) -> str:
    """*text* with every session token replaced by ``REDACTED``."""
    return _TOKEN.sub(r"\1REDACTED", text)


class RedactTokens(logging.Filter):
    """Rewrites a record whose message holds a session token; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_FILTER = RedactTokens()


def install() -> None:
    """Add the filter to the loggers that print request headers (idempotent)."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
