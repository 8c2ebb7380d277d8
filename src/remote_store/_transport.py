"""The one rule for plain ``http://``, shared by every network backend: only to this
machine (an emulator, a test server) unless the caller opts in explicitly, because
credentials and data would otherwise cross the network in clear text.

Moved here from the Azure backend (``backends/azure/urls.py`` re-exports both names) so
the HTTP backend applies the same rule without importing the Azure SDK.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from remote_store.errors import ConfigError

#: How the Azure backend's caller opts in (the default wording of `check_transport`).
AZURE_OPT_IN = "pass client_options={'allow_insecure': True}"


def is_loopback(host: str | None) -> bool:
    """Whether *host* is this machine: ``localhost``, 127.0.0.0/8 or ``::1``."""
    if not host:
        return False
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_transport(
    url: str,
    *,
    allow_insecure: bool = False,
    option: str = "account_url",
    opt_in: str = AZURE_OPT_IN,
) -> None:
    """Refuse plain ``http://`` to anything but this machine unless *allow_insecure*;
    the message names the *option* and how to opt in (*opt_in*). A URL whose host two
    parsers could read differently is refused first (`check_unambiguous`)."""
    check_unambiguous(url, option=option)
    parts = urlsplit(url)
    if parts.scheme.lower() == "http" and not allow_insecure and not is_loopback(parts.hostname):
        raise ConfigError(
            f"{option} uses http:// to {parts.hostname!r}: credentials and data would travel "
            f"unencrypted. Use https://, or {opt_in} "
            "if you really mean it (only loopback emulators are allowed without it)"
        )


# What may appear between "//" and the first "/", "?" or "#" of a URL we connect to.
_AUTHORITY = re.compile(r"[A-Za-z0-9._\-]+(?::[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?")


def check_unambiguous(url: str, *, option: str) -> None:
    """Refuse a URL whose host is not spelled plainly: userinfo (``user@``), a backslash,
    whitespace, control or percent-encoded characters in the authority. Python's
    `urllib.parse` and the HTTP transports split such URLs differently (``http://evil\\@
    127.0.0.1/`` is loopback to one and ``evil`` to the other), so the host we check could
    be another than the host the request goes to."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme:
        raise ConfigError(f"{option} must be an absolute URL (scheme://host/...)")
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if not _AUTHORITY.fullmatch(authority):
        raise ConfigError(
            f"{option}: the host part of the URL is not a plain host[:port] (it holds "
            "user info, a backslash, spaces or encoded characters); write it as "
            "scheme://host[:port]/path"
        )
