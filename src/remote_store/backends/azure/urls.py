"""Azure URLs: endpoints, ``abfss://``/``az://`` locations, and native blob URLs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

# The plain-http rule is shared with the other network backends; re-exported here.
from remote_store._transport import check_transport as check_transport
from remote_store._transport import is_loopback as is_loopback
from remote_store.errors import ConfigError, InvalidPath

_CONTAINER = re.compile(r"^(?:\$root|\$web|\$logs|[a-z0-9](?:[a-z0-9]|-(?!-)){1,61}[a-z0-9])$")
_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")
_IP_HOST = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){3}|localhost|\[[0-9a-fA-F:]+\])(?::\d+)?$")
_SERVICE_HOST = re.compile(r"^(?P<account>[a-z0-9]{3,24})\.(?:blob|dfs)\.(?P<suffix>.+)$")
_FSSPEC_SCHEMES = ("abfs", "abfss", "az")
_LEGACY_SCHEMES = ("wasb", "wasbs")  # read for the command line; the backend never took them


@dataclass(frozen=True)
class AzureLocation:
    """A parsed Azure URL: container, key below it, and the account when the URL names it."""

    container: str
    path: str
    account_name: str | None = None
    account_url: str | None = None


def check_container(name: object) -> str:
    """Return *name* if it is a valid container name, else raise `ConfigError`."""
    if not isinstance(name, str) or not name:
        raise ConfigError("container must be a non-empty str")
    if not _CONTAINER.match(name):
        raise ConfigError(
            f"container {name[:70]!r} is not a valid Azure container name: 3-63 characters, "
            "lower-case letters, digits and single hyphens, starting and ending alphanumeric"
        )
    return name


def check_account_name(name: object) -> str:
    """Return *name* if it is a valid storage account name, else raise `ConfigError`."""
    if not isinstance(name, str) or not _ACCOUNT.match(name):
        raise ConfigError(
            f"account_name {str(name)[:40]!r} is not a valid storage account name: "
            "3-24 lower-case letters and digits"
        )
    return name


def check_connection_string(conn: str, *, allow_insecure: bool = False) -> None:
    """`check_transport` for every endpoint a connection string names (``BlobEndpoint``,
    ``DefaultEndpointsProtocol=http`` with an account host)."""
    fields: dict[str, str] = {}
    for part in conn.split(";"):
        name, _, value = part.partition("=")
        fields[name.strip().lower()] = value.strip()
    for name in ("blobendpoint", "dfsendpoint"):
        if fields.get(name):
            check_transport(fields[name], allow_insecure=allow_insecure, option="connection_string")
    if (
        fields.get("defaultendpointsprotocol", "").lower() == "http"
        and "blobendpoint" not in fields
    ):
        host = f"{fields.get('accountname', '')}.blob.{fields.get('endpointsuffix', '')}"
        check_transport(f"http://{host}", allow_insecure=allow_insecure, option="connection_string")


def blob_endpoint(account_url: str, *, allow_insecure: bool = False) -> str:
    """The Blob endpoint for *account_url* (a ``.dfs.`` host becomes ``.blob.``); plain
    ``http://`` only to loopback unless *allow_insecure* (`check_transport`)."""
    parts = urlsplit(account_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            "account_url must be an http(s) URL such as https://ACCOUNT.blob.core.windows.net"
        )
    if parts.query or "sig=" in account_url.lower():
        raise ConfigError("account_url must not carry a query string; pass a SAS as sas_token=")
    check_transport(account_url, allow_insecure=allow_insecure)
    host = parts.netloc.replace(".dfs.", ".blob.", 1)
    return f"{parts.scheme}://{host}{parts.path.rstrip('/')}"


def dfs_endpoint(account_url: str) -> str:
    """The Data Lake endpoint for *account_url* (unchanged for emulator-style URLs)."""
    return blob_endpoint(account_url).replace(".blob.", ".dfs.", 1)


def account_url_for(account_name: str) -> str:
    """The public cloud's Blob endpoint of *account_name* (whose form the caller checked)."""
    return f"https://{account_name}.blob.core.windows.net"


def account_name_of(account_url: str) -> str | None:
    """The account named by *account_url*: its first host label, or for emulator-style
    URLs (``http://127.0.0.1:10000/devstoreaccount1``) its first path segment."""
    parts = urlsplit(account_url)
    if _IP_HOST.match(parts.netloc):
        first = parts.path.strip("/").split("/", 1)[0]
        return first or None
    label = parts.netloc.split(".", 1)[0]
    return label if "." in parts.netloc else None


def native_url(endpoint: str, container: str, key: str) -> str:
    """The blob URL of *key* (percent-encoded like the SDK's ``BlobClient.url``)."""
    base = f"{endpoint}/{container}"
    return f"{base}/{quote(key, safe='/~')}" if key else base


@dataclass(frozen=True)
class UrlParts:
    """An Azure URL taken apart, before any endpoint is derived from it.

    *host* follows ``CONTAINER@`` (None in ``az://CONTAINER/...``) or is an http(s) URL's
    host; *account* is its first label, or an emulator URL's first path segment. *path* is
    below the container, without leading slashes, and percent-decoded only in http(s) URLs:
    those are percent-encoded blob URLs, while abfss/az paths are taken as written.
    """

    scheme: str
    container: str
    path: str
    host: str | None = None
    account: str | None = None


def split_url(url: str) -> UrlParts:
    """Take apart an Azure URL as `parse_url` does, also reading ``wasb://``/``wasbs://``,
    without judging the host or deriving an endpoint. Raises `InvalidPath` for a URL that
    names no container, or of another scheme."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        return _split_http(scheme, parts.netloc, parts.path)
    if scheme in (*_FSSPEC_SCHEMES, *_LEGACY_SCHEMES):
        return _split_fsspec(scheme, parts.netloc, parts.path, url)
    raise _not_azure(url)


def service_host(host: str) -> tuple[str, str] | None:
    """``(account, endpoint suffix)`` of a storage host such as ``acct.dfs.core.windows.net``
    (in any case); None for any other host, an emulator's included."""
    found = _SERVICE_HOST.match(host.lower())
    return (found["account"], found["suffix"]) if found else None


def parse_url(url: str) -> AzureLocation:
    """Parse ``abfss://container@account.dfs.core.windows.net/path`` (also ``abfs://``),
    ``az://container/path`` (or ``az://container@account.../path``) and blob or dfs
    ``https://`` URLs."""
    if not isinstance(url, str):
        raise InvalidPath(f"URL must be a str, got {type(url).__name__}")
    if urlsplit(url).scheme.lower() in _LEGACY_SCHEMES:
        raise _not_azure(url)
    parts = split_url(url)
    path = parts.path.strip("/")
    if parts.host is None:
        return AzureLocation(container=parts.container, path=path)
    assert parts.account is not None  # split_url names the account of every host
    host, scheme = parts.host, parts.scheme
    if scheme in ("http", "https") and _IP_HOST.match(host):
        account_url = f"{scheme}://{host}/{parts.account}"
    elif scheme in ("http", "https"):
        account_url = blob_endpoint(f"{scheme}://{host}", allow_insecure=True)  # checked on use
    elif "." in host:
        https = "http" if scheme == "abfs" and _IP_HOST.match(host) else "https"
        account_url = blob_endpoint(f"{https}://{host}", allow_insecure=True)  # checked on use
    else:
        # The one place a URL is built from an account name: its form must be Azure's.
        if not _ACCOUNT.match(parts.account):
            raise InvalidPath(
                f"{url[:80]!r}: {parts.account[:40]!r} is not a storage account name "
                "(3-24 lower-case letters and digits); give the full host instead",
                path=url,
            )
        account_url = account_url_for(parts.account)
    return AzureLocation(parts.container, path, parts.account, account_url)


def _not_azure(url: str) -> InvalidPath:
    return InvalidPath(f"{url[:80]!r} is not an abfss://, az:// or https:// Azure URL", path=url)


def _split_fsspec(scheme: str, netloc: str, path: str, url: str) -> UrlParts:
    container, at, host = netloc.partition("@")
    if not container:
        raise InvalidPath(f"{url[:80]!r} names no container", path=url)
    if not at:
        if scheme != "az":
            raise InvalidPath(
                f"{url[:80]!r}: expected {scheme}://CONTAINER@ACCOUNT.dfs...", path=url
            )
        return UrlParts(scheme, container, path.lstrip("/"))
    return UrlParts(scheme, container, path.lstrip("/"), host, host.split(".", 1)[0])


def _split_http(scheme: str, netloc: str, path: str) -> UrlParts:
    segments = unquote(path).lstrip("/").split("/")
    if _IP_HOST.match(netloc):  # emulator style: /ACCOUNT/CONTAINER/KEY
        if len(segments) < 2 or not segments[1]:
            raise InvalidPath(f"{scheme}://{netloc}{path} names no container", path=path)
        account, container, rest = segments[0], segments[1], segments[2:]
    else:
        if not segments[0]:
            raise InvalidPath(f"{scheme}://{netloc}{path} names no container", path=path)
        account, container, rest = netloc.split(".", 1)[0], segments[0], segments[1:]
    return UrlParts(scheme, container, "/".join(rest), netloc, account)
