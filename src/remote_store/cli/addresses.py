"""Parsing the addresses users type: ``STORE:path``, Azure, SFTP and S3 URLs, and local paths.

Parsing is pure (no I/O beyond one existence check that disambiguates ``name:thing``), so
it is tested on its own; `remote_store.cli.session` turns an `Address` into a store.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

from remote_store.errors import InvalidPath
from remote_store.registry import load_backend_class

_STORE_PREFIX = re.compile(r"^(?P<name>[A-Za-z0-9_][A-Za-z0-9_.-]*):(?P<path>(?!//).*)\Z", re.S)
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://", re.S)
_MAGIC = re.compile(r"[*?\[]")
_AZURE_FSSPEC = ("abfs", "abfss", "az", "wasb", "wasbs")


class AddressError(InvalidPath):
    """An operand that cannot be meant as written; the message says what to write."""


Kind = Literal["store", "local", "azure", "sftp", "s3", "stdio"]


@dataclass(frozen=True)
class AzureUrl:
    """An Azure location: *container*, the *account* when the URL names it, and the
    endpoint suffix (``core.windows.net`` unless a sovereign cloud is named)."""

    container: str
    account: str | None = None
    suffix: str = "core.windows.net"
    scheme: str = "az"

    def prefix(self) -> str:
        """The URL of the container, to which a key is appended for display."""
        if self.scheme == "az" or self.account is None:
            return f"az://{self.container}/"
        return f"abfss://{self.container}@{self.account}.dfs.{self.suffix}/"


@dataclass(frozen=True)
class SftpUrl:
    """An SFTP server: *host*, *port* and the *username* when the URL names one."""

    host: str
    port: int = 22
    username: str | None = None

    def prefix(self) -> str:
        """The URL of the server's root, to which a path is appended for display."""
        user = f"{self.username}@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"sftp://{user}{host}:{self.port}/"


@dataclass(frozen=True)
class Address:
    """One command-line operand. *path* is the part inside the store, container or local
    filesystem; *is_dir_hint* is true when the user wrote a trailing slash."""

    kind: Kind
    raw: str
    path: str
    store: str | None = None
    azure: AzureUrl | None = None
    sftp: SftpUrl | None = None
    #: The bucket of an ``s3://`` address.
    bucket: str | None = None

    @property
    def is_dir_hint(self) -> bool:
        return self.raw.endswith(("/", os.sep)) or self.path in ("", ".")

    @property
    def has_glob(self) -> bool:
        return self.kind != "stdio" and bool(_MAGIC.search(self.path))


def parse_address(text: str, store_names: Collection[str]) -> Address:
    """Classify *text*: ``-`` (stdin/stdout), an Azure URL, ``STORE:path`` for a configured
    store, or else a local path. Raises `InvalidPath` for what cannot be meant."""
    if text == "-":
        return Address("stdio", text, "")
    if not text:
        raise AddressError("empty address; give a local path or STORE:path")
    url = _URL.match(text)
    if url is not None:
        scheme = url.group("scheme").lower()
        if scheme in _AZURE_FSSPEC or scheme in ("http", "https"):
            azure, path = parse_azure_url(text)
            return Address("azure", text, path, azure=azure)
        if scheme == "sftp":
            server, path = parse_sftp_url(text)
            return Address("sftp", text, path, sftp=server)
        if scheme == "file":
            return Address("local", text, unquote(urlsplit(text).path))
        if scheme == "s3":
            bucket, path = parse_s3_url(text)
            return Address("s3", text, path, bucket=bucket)
        raise AddressError(
            f"unsupported URL scheme {scheme + '://'!r} in {_short(text)!r}; "
            "use STORE:path, az://, abfss://, sftp://, s3:// or a local path",
            path=_short(text),
        )
    prefixed = _STORE_PREFIX.match(text)
    if prefixed is not None:
        name = prefixed.group("name")
        if name in store_names:
            return Address("store", text, prefixed.group("path"), store=name)
        if not os.path.lexists(text):
            defined = ", ".join(sorted(store_names)) or "(none)"
            raise AddressError(
                f"{text!r}: no store named {name!r} (defined stores: {defined}); "
                f"write ./{text} for a local file",
                path=text,
            )
    return Address("local", text, text)


def parse_s3_url(text: str) -> tuple[str, str]:
    """``s3://BUCKET/key`` -> (bucket, key); endpoint and credentials come from the
    standard AWS environment variables and files when the store is opened."""
    rest = text.split("://", 1)[1]
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise AddressError(f"{_short(text)!r} names no bucket; write s3://BUCKET/PATH")
    if "?" in text or "#" in text:
        raise AddressError(f"{_short(text)!r}: an s3:// address takes no '?' or '#'")
    return bucket, key


def parse_azure_url(text: str) -> tuple[AzureUrl, str]:
    """Split an Azure URL into its location and the key below the container.

    Accepts ``abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/key`` (and abfs, wasb[s]),
    ``az://CONTAINER/key`` (account from the environment), and
    ``https://ACCOUNT.blob.core.windows.net/CONTAINER/key`` (or ``.dfs.``).
    """
    shown, parts = _short(text), urlsplit(text)
    if parts.query or parts.fragment:
        raise AddressError(
            f"{shown}: Azure URLs take no '?' or '#' part; pass a SAS token through "
            "AZURE_STORAGE_SAS_TOKEN",
            path=shown,
        )
    # The azure package imports its SDK: load it only for an Azure URL, so that the command
    # line runs without the extra, and say which extra it needs when it is missing.
    load_backend_class("azure")
    from remote_store.backends.azure.urls import service_host, split_url

    web = parts.scheme.lower() in ("http", "https")
    expected_web = f"{shown}: expected https://ACCOUNT.blob.core.windows.net/CONTAINER/path"
    try:
        url = split_url(text)
    except InvalidPath as error:
        raise AddressError(expected_web if web else str(error), path=shown) from None
    if url.host is None:
        return AzureUrl(url.container), _decoded(url.path)
    host = service_host(url.host)
    if host is None:
        if web:
            raise AddressError(expected_web, path=shown)
        raise AddressError(
            f"{shown}: {url.host!r} is not an Azure storage host (ACCOUNT.dfs.core.windows.net)",
            path=shown,
        )
    if web:  # a blob URL is already percent-decoded, and is shown as abfss://
        return AzureUrl(url.container, *host, "abfss"), url.path
    return AzureUrl(url.container, *host, url.scheme), _decoded(url.path)


def parse_sftp_url(text: str) -> tuple[SftpUrl, str]:
    """Split ``sftp://[user@]host[:port]/path`` into the server and the path below its root
    (absolute on the server, without the leading ``/``)."""
    parts = urlsplit(text)
    if parts.password is not None:
        host = parts.netloc.rsplit("@", 1)[-1]
        user = parts.username or ""
        raise AddressError(
            f"sftp://{user}@{host}{parts.path}: a password may not be written in the URL "
            "(it would land in shell history and logs); set SFTP_PASSWORD",
            path=f"sftp://{user}@{host}{parts.path}",
        )
    shown = _short(text)
    load_backend_class("sftp")  # paramiko is an extra: say so when it is missing
    from remote_store.backends.sftp.urls import parse_url
    from remote_store.errors import ConfigError

    try:
        location = parse_url(text)
    except ConfigError as error:
        raise AddressError(f"{shown}: {error}", path=shown) from None
    path = "" if location.path == "/" else location.path.lstrip("/")
    return SftpUrl(location.host, location.port, location.username), path


def split_glob(path: str) -> tuple[str, str]:
    """``("raw/2026", "*.csv")`` for ``raw/2026/*.csv``: the literal folder to list and the
    pattern relative to it. Paths without wildcards give ``(path, "")``."""
    segments = path.split("/")
    for index, segment in enumerate(segments):
        if _MAGIC.search(segment):
            return "/".join(segments[:index]), "/".join(segments[index:])
    return path, ""


def _decoded(path: str) -> str:
    return unquote(path).lstrip("/")


def _short(text: str, limit: int = 100) -> str:
    """*text* fit for an error message: bounded, and without a query string, which may
    carry a SAS signature."""
    text = text.split("?", 1)[0].split("#", 1)[0]
    return text if len(text) <= limit else text[: limit - 3] + "..."
