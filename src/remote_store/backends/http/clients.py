"""Options -> validated settings: the base URL, headers (credentials as `Secret`), and the
one urllib3 pool every request and read-ahead thread shares (urllib3's `PoolManager` is
thread-safe; see sdd/decisions.md)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import urllib3

from remote_store._transport import check_transport
from remote_store.config import RetryPolicy, Secret
from remote_store.errors import ConfigError, InvalidPath
from remote_store.extras import install_hint

INSTALL_HINT = install_hint("http")

#: The policy when none is configured: 4 attempts, backoff from 0.2 s doubling to 4 s, and
#: a 60 s deadline per call (the same as Azure's).
DEFAULT_RETRY = RetryPolicy(
    attempts=4, backoff_base=0.2, backoff_max=4.0, jitter=True, timeout=60.0
)

#: Listings the backend can read; the option value that declares them.
LISTINGS = ("nginx-json",)

_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
#: Header names whose values are credentials: Authorization-like names, and any name
#: that mentions a key, token, secret, session, password or auth.
_CREDENTIAL_HEADER = re.compile(
    r"(?i)^(?:proxy-)?authorization$|^cookie$|key|token|secret|auth|session|passw"
)


def is_credential_header(name: str) -> bool:
    """Whether an HTTP header called *name* carries a credential: its value is kept as a
    `Secret` and never sent to another origin."""
    return bool(_CREDENTIAL_HEADER.search(name))


@dataclass(frozen=True)
class Settings:
    """What the backend connects to and how; credentials never in any repr."""

    base_url: str
    headers: Mapping[str, str | Secret] = field(repr=False)
    timeout: float
    retry: RetryPolicy
    verify_ssl: bool
    ca_certs: str | None
    max_redirects: int
    allow_insecure: bool
    listing: str | None
    chunk_size: int
    max_concurrency: int

    def url(self, key: str) -> str:
        """The URL of *key* (percent-encoded; the root is the base URL itself)."""
        return f"{self.base_url}/{quote(key, safe='/~')}" if key else f"{self.base_url}/"

    def key_of(self, url: str) -> str:
        """The key of a URL below the base URL (`InvalidPath` for any other)."""
        if url.rstrip("/") == self.base_url:
            return ""
        if not url.startswith(self.base_url + "/"):
            raise InvalidPath(f"{url[:120]!r} is not below {self.base_url!r}", path=url)
        return unquote(url[len(self.base_url) + 1 :])

    def header_names(self) -> list[str]:
        return sorted(self.headers)


def _number(value: object, name: str, *, minimum: float, integer: bool = False) -> Any:
    if isinstance(value, bool) or not isinstance(value, int if integer else int | float):
        kind = "an int" if integer else "a number"
        raise ConfigError(f"{name} must be {kind} >= {minimum:g}, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum:g}, got {value!r}")
    return value


def check_base_url(base_url: object, *, allow_insecure: bool) -> str:
    """The base URL without its trailing slash; plain ``http://`` only to loopback unless
    *allow_insecure* (the rule Azure applies, `remote_store._transport`)."""
    if not isinstance(base_url, str) or not base_url.strip():
        raise ConfigError("base_url must be a non-empty str such as https://example.org/data")
    parts = urlsplit(base_url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigError("base_url must be an http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(
            "base_url must not carry credentials (user:password@); pass them in headers= "
            "(e.g. an Authorization header), where they are kept as a Secret"
        )
    if parts.query or parts.fragment:
        raise ConfigError("base_url must not carry a query string or fragment")
    check_transport(
        base_url,
        allow_insecure=allow_insecure,
        option="base_url",
        opt_in="pass allow_insecure=True",
    )
    return f"{parts.scheme.lower()}://{parts.netloc}{parts.path.rstrip('/')}"


def check_headers(headers: object) -> dict[str, str | Secret]:
    """Header name -> value; credential values (by name, or given as `Secret`) wrapped in
    `Secret`. Values are never quoted in an error."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise ConfigError(f"headers must be a mapping, got {type(headers).__name__}")
    checked: dict[str, str | Secret] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.match(name):
            raise ConfigError(f"header name {str(name)[:40]!r} is not a valid HTTP token")
        if name.lower() in ("host", "range", "if-range", "if-match", "content-length"):
            raise ConfigError(f"header {name!r} is set by the backend itself")
        if isinstance(value, Secret):
            text = value.reveal()
        elif isinstance(value, str):
            text = value
        else:
            raise ConfigError(f"header {name!r} must be a str or Secret")
        if any(c in text for c in "\r\n\0"):
            raise ConfigError(f"header {name!r} holds a line break or NUL")
        secret = isinstance(value, Secret) or is_credential_header(name)
        checked[name] = Secret(text) if secret else text
    return checked


def build_settings(
    base_url: object,
    *,
    headers: object,
    timeout: object,
    retry: object,
    verify_ssl: object,
    ca_certs: object,
    max_redirects: object,
    allow_insecure: object,
    listing: object,
    chunk_size: object,
    max_concurrency: object,
) -> Settings:
    """Check every option (`ConfigError` naming the option, never a credential)."""
    for name, flag in (("verify_ssl", verify_ssl), ("allow_insecure", allow_insecure)):
        if not isinstance(flag, bool):
            raise ConfigError(f"{name} must be a bool, got {flag!r}")
    if ca_certs is not None:
        if not isinstance(ca_certs, str | os.PathLike) or not os.path.isfile(ca_certs):
            raise ConfigError("ca_certs must be the path of a PEM file of CA certificates")
        if verify_ssl is False:
            raise ConfigError("ca_certs is for verifying certificates: drop verify_ssl=False")
    if listing is not None and listing not in LISTINGS:
        raise ConfigError(f"listing must be None or one of {', '.join(LISTINGS)}, got {listing!r}")
    policy = RetryPolicy.from_option(retry, DEFAULT_RETRY)
    return Settings(
        base_url=check_base_url(base_url, allow_insecure=bool(allow_insecure)),
        headers=check_headers(headers),
        timeout=float(_number(timeout, "timeout", minimum=0.001)),
        retry=policy,
        verify_ssl=bool(verify_ssl),
        ca_certs=os.fspath(ca_certs) if ca_certs is not None else None,
        max_redirects=_number(max_redirects, "max_redirects", minimum=0, integer=True),
        allow_insecure=bool(allow_insecure),
        listing=listing if isinstance(listing, str) else None,
        chunk_size=_number(chunk_size, "chunk_size", minimum=64 * 1024, integer=True),
        max_concurrency=_number(max_concurrency, "max_concurrency", minimum=1, integer=True),
    )


def pool(settings: Settings) -> urllib3.PoolManager:
    """The connection pool: no retries or redirects of its own (the backend does both).
    Idle connections kept per host: enough for a few readers with their read-ahead; more
    are opened when needed and closed after use."""
    return urllib3.PoolManager(
        num_pools=8,
        maxsize=max(16, 4 * settings.max_concurrency),
        block=False,
        retries=False,
        cert_reqs="CERT_REQUIRED" if settings.verify_ssl else "CERT_NONE",
        ca_certs=settings.ca_certs,
    )
