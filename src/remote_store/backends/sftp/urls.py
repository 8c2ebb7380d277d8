"""``sftp://[user@]host[:port]/path`` addresses."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from remote_store.errors import ConfigError, InvalidPath


@dataclass(frozen=True)
class SFTPLocation:
    host: str
    port: int
    username: str | None
    path: str  # absolute, or "/" for the server's root


def parse_url(url: str) -> SFTPLocation:
    """Split an ``sftp://`` URL. A password in it is refused: URLs end up in logs."""
    if not isinstance(url, str):
        raise ConfigError(f"url must be a str, got {type(url).__name__}")
    try:
        parts = urlsplit(url)
        port = parts.port or 22
    except ValueError:
        raise ConfigError("not a valid sftp:// URL (bad port?)") from None
    if parts.scheme.lower() != "sftp":
        raise ConfigError(f"expected an sftp:// URL, got scheme {parts.scheme!r}")
    if parts.password is not None:
        raise ConfigError("put the password in password=, not in the sftp:// URL")
    if not parts.hostname:
        raise ConfigError("the sftp:// URL names no host")
    if parts.query or parts.fragment:
        raise ConfigError("an sftp:// URL takes no query or fragment")
    username = unquote(parts.username) if parts.username else None
    path = posixpath.normpath(unquote(parts.path)) if parts.path not in ("", "/") else "/"
    return SFTPLocation(parts.hostname, port, username, path)


def native_url(username: str, host: str, port: int, path: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"sftp://{quote(username, safe='')}@{shown}:{port}{quote(path)}"


def path_of(native: str, host: str, port: int, base: str) -> str:
    """The key of *native* (an ``sftp://`` URL of this server, or a path) below *base*."""
    path = native
    if "://" in native:
        location = parse_url(native)
        if (location.host, location.port) != (host, port):
            raise InvalidPath(f"{native!r} is not on {host}:{port}", path=native)
        path = location.path
    path = posixpath.normpath(path) if path else path
    root = base.rstrip("/")
    if path in (base, root):
        return ""
    if not path.startswith(root + "/"):
        raise InvalidPath(f"{native!r} is outside the base path {base!r}", path=native)
    return path[len(root) + 1 :]
