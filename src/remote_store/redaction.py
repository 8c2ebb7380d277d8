"""Keep credentials out of log records, including other libraries' records.

HTTP client libraries log request lines at DEBUG, query strings included, so a SAS
token's ``sig=`` or a presigned URL's signature would reach any handler listening at
DEBUG. `SecretRedactionFilter` rewrites such text before a handler sees it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from remote_store.secret import Secret

_REDACTED = "REDACTED"
# Credential-bearing fields in URLs, connection strings and headers, by their names.
_FIELDS = re.compile(
    r"(?i)((?:sig|signature|x-amz-signature|x-amz-security-token|accountkey|"
    r"sharedaccesssignature|password|passwd|access_token|api[_-]?key|token)=)[^&\s;'\"]+"
)
# Headers printed as ``'Name': 'value'`` or ``Name: value`` (b'...' for bytes values).
_HEADERS = re.compile(
    r"(?i)(\b(?:authorization|x-amz-security-token)['\"]?\s*[:=]\s*b?['\"]?)[^'\"\r\n,}&]+"
)
_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^/\s@]+@")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """*text* with signatures, keys, passwords, Authorization values, the password of a
    URL's userinfo and each of *secrets* replaced by ``REDACTED``."""
    for value in secrets:
        if value:
            text = text.replace(value, _REDACTED)
    text = _FIELDS.sub(rf"\1{_REDACTED}", text)
    text = _HEADERS.sub(rf"\1{_REDACTED}", text)
    return _USERINFO.sub(rf"\1{_REDACTED}@", text)


class SecretRedactionFilter(logging.Filter):
    """A logging filter that rewrites a record holding a credential; it never drops one.

    Add it to a handler (or to a logger) to cover every record that passes: the
    well-known credential shapes always, plus the values of *secrets* (`Secret` objects or
    strings) you name.
    """

    def __init__(self, secrets: Iterable[Secret | str] = (), name: str = "") -> None:
        super().__init__(name)
        revealed = (s.reveal() if isinstance(s, Secret) else s for s in secrets)
        # Longest first, so a secret containing another is replaced whole.
        self._secrets = tuple(sorted({s for s in revealed if s}, key=len, reverse=True))

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return True
        cleaned = redact(message, self._secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_LIBRARY_FILTER = SecretRedactionFilter()


def protect_loggers(*names: str) -> None:
    """Add the library's filter to other libraries' loggers that print request lines or
    headers at DEBUG (urllib3, botocore), so no handler sees a credential (idempotent)."""
    for name in names:
        logger = logging.getLogger(name)
        if _LIBRARY_FILTER not in logger.filters:
            logger.addFilter(_LIBRARY_FILTER)
