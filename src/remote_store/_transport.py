"""The one rule for plain ``http://``, shared by every network backend: only to this
machine (an emulator, a test server) unless the caller opts in explicitly, because
credentials and data would otherwise cross the network in clear text.

Moved here from the Azure backend (``backends/azure/urls.py`` re-exports both names) so
the HTTP backend applies the same rule without importing the Azure SDK.
"""

from __future__ import annotations

import ipaddress
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
    the message names the *option* and how to opt in (*opt_in*)."""
    parts = urlsplit(url)
    if parts.scheme.lower() == "http" and not allow_insecure and not is_loopback(parts.hostname):
        raise ConfigError(
            f"{option} uses http:// to {parts.hostname!r}: credentials and data would travel "
            f"unencrypted. Use https://, or {opt_in} "
            "if you really mean it (only loopback emulators are allowed without it)"
        )
