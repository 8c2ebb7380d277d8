"""SFTPBackend: options, credentials, the session pool, names and lifecycle."""

from __future__ import annotations

import getpass
import math
import os
import posixpath
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from paramiko import Transport

from remote_store.backend import Backend
from remote_store.backends.sftp import clients
from remote_store.backends.sftp.errors import translate
from remote_store.backends.sftp.files import SftpFiles
from remote_store.backends.sftp.pool import Pool
from remote_store.backends.sftp.retry import DEFAULT_RETRY, Runner, call_scope
from remote_store.backends.sftp.upload import POSIX_RENAME
from remote_store.backends.sftp.urls import native_url, parse_url, path_of
from remote_store.capabilities import Capability, CapabilitySet
from remote_store.config import RetryPolicy, Secret
from remote_store.errors import CapabilityNotSupported, ConfigError, InvalidArgument
from remote_store.frozen import FrozenMap
from remote_store.models import ResolutionPlan

if TYPE_CHECKING:
    from remote_store.store import Store

T = TypeVar("T")

#: What holds on every SFTP server; `_ATOMIC` needs posix-rename@openssh.com.
_BASE = CapabilitySet(
    {
        Capability.READ,
        Capability.WRITE,
        Capability.DELETE,
        Capability.LIST,
        Capability.MOVE,
        Capability.COPY,
        Capability.GLOB,
        Capability.RECURSIVE_LIST,
        Capability.METADATA,
        Capability.SEEKABLE_READ,
        Capability.LAZY_READ,
        Capability.WRITE_RESULT_NATIVE,
    }
)
_ATOMIC = CapabilitySet({Capability.ATOMIC_WRITE, Capability.ATOMIC_MOVE})


class SFTPBackend(Backend):
    """Files on an SFTP server (OpenSSH's or another), below *base_path*.

    The server's host key must be one you trust (*known_host_keys* lines or a
    *host_keys_path* file) unless ``host_key_policy="accept-new"``. Authentication uses
    *pkey* (a paramiko key, a key file path, or the key text), then *password*. Up to
    *max_sessions* SFTP channels share one SSH connection, opened on first use, kept alive
    every *keepalive* seconds and reopened after it drops; an instance is safe to share
    between threads."""

    name: ClassVar[str] = "sftp"
    supported_capabilities: ClassVar[CapabilitySet] = _BASE | _ATOMIC

    def __init__(
        self,
        host: str,
        *,
        port: int = 22,
        username: str | None = None,
        password: str | Secret | None = None,
        pkey: Any = None,
        passphrase: str | Secret | None = None,
        base_path: str = "/",
        host_key_policy: str = "strict",
        known_host_keys: str | list[str] | None = None,
        host_keys_path: str | None = None,
        timeout: float = 10,
        max_sessions: int = 8,
        keepalive: int = 30,
        retry: RetryPolicy | dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(host, str) or not host.strip() or any(c in host for c in "/@ "):
            raise ConfigError(f"host must be a host name or address, got {host!r}")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ConfigError(f"port must be an int from 1 to 65535, got {port!r}")
        if username is not None and (not isinstance(username, str) or not username):
            raise ConfigError("username must be a non-empty str")
        if password is not None and not isinstance(password, str | Secret):
            raise ConfigError(f"password must be a str or Secret, got {type(password).__name__}")
        if host_key_policy not in clients.HOST_KEY_POLICIES:
            raise ConfigError(
                f"host_key_policy must be one of {', '.join(clients.HOST_KEY_POLICIES)}, "
                f"got {host_key_policy!r}"
            )
        if not isinstance(base_path, str) or "\0" in base_path:
            raise ConfigError(f"base_path must be a str, got {base_path!r}")
        for option, value in (("timeout", timeout), ("keepalive", keepalive)):
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigError(f"{option} must be a number of seconds > 0, got {value!r}")
        if isinstance(max_sessions, bool) or not isinstance(max_sessions, int) or max_sessions < 1:
            raise ConfigError(f"max_sessions must be an int >= 1, got {max_sessions!r}")
        pkey_object = clients.load_pkey(pkey, passphrase)
        if pkey_object is None and password is None:
            raise ConfigError("give password= or pkey= to authenticate")
        self._settings = clients.Settings(
            host=host,
            port=port,
            username=username or getpass.getuser(),
            password=None if password is None else Secret(password),
            pkey=pkey_object,
            host_keys=clients.load_host_keys(known_host_keys, host_keys_path),
            policy=host_key_policy,
            timeout=float(timeout),
            keepalive=math.ceil(keepalive),  # paramiko counts whole seconds; 0 is "off"
        )
        self._base = posixpath.normpath(base_path).replace("//", "/") if base_path else "."
        self._retry = RetryPolicy.from_option(retry, DEFAULT_RETRY)
        settings = self._settings
        self._pool = Pool(lambda: clients.connect(settings), max_sessions, settings.where)
        self._runner = Runner(self._pool, self._retry, float(timeout))
        self._files = SftpFiles(self._runner, self._base)
        self._capabilities: CapabilitySet | None = None
        # What another process needs to build the same backend (DS-031). Credentials travel
        # as `Secret` (by value, never printed); a key file path travels as the path, read
        # again where the pickle is loaded; a paramiko key object cannot travel.
        self._options: dict[str, Any] = {
            "host": host,
            "port": port,
            "username": settings.username,
            "password": settings.password,
            "pkey": _portable_key(pkey),
            "passphrase": None if passphrase is None else Secret(passphrase),
            "base_path": base_path,
            "host_key_policy": host_key_policy,
            "known_host_keys": known_host_keys,
            "host_keys_path": host_keys_path,
            "timeout": timeout,
            "max_sessions": max_sessions,
            "keepalive": keepalive,
            "retry": self._retry,
        }

    def _rebuild_options(self) -> dict[str, Any]:
        if self._options["pkey"] is _UNPORTABLE:
            raise InvalidArgument(
                "an SFTP store built with a paramiko key object cannot be pickled; pass the "
                "key file path or the key text (a Secret) instead",
                backend=self.name,
            )
        return dict(self._options)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Store:
        """A `Store` on ``sftp://[user@]host[:port]/path``: *path* becomes the backend's
        ``base_path``; *options* are the constructor's (credentials, host keys)."""
        from remote_store.store import Store

        location = parse_url(url)
        options.setdefault("port", location.port)
        if location.username is not None:
            options.setdefault("username", location.username)
        options.setdefault("base_path", location.path)
        return Store(cls(location.host, **options))

    def __repr__(self) -> str:
        s = self._settings
        return (
            f"SFTPBackend(host={s.host!r}, port={s.port}, username={s.username!r}, "
            f"base_path={self._base!r}, host_key_policy={s.policy!r})"
        )

    # ------------------------------------------------------------------ capabilities

    @property
    def capabilities(self) -> CapabilitySet:
        """Atomic replacement (ATOMIC_WRITE, ATOMIC_MOVE) only where the server offers
        posix-rename@openssh.com; asking connects, once."""
        known = self._capabilities
        if known is None:
            with call_scope(self._retry), translate("connect", None):
                extensions = self._extensions()
            # What the server announced does not change while we are connected to it.
            known = self._capabilities = _BASE | _ATOMIC if POSIX_RENAME in extensions else _BASE
        return known

    def _extensions(self) -> dict[str, bytes]:
        if self._pool.extensions is None:
            self._runner.idempotent(lambda session: None)
        return self._pool.extensions or {}

    def _operations(self) -> SftpFiles:
        return self._files

    def _call_scope(self) -> AbstractContextManager[object]:
        return call_scope(self._retry)

    # ------------------------------------------------------------------ names

    def _native_path(self, key: str) -> str:
        """``sftp://user@host:port/base_path/key``."""
        s = self._settings
        return native_url(s.username, s.host, s.port, self._files.path(key))

    def _to_key(self, native_path: str) -> str:
        """The key of an ``sftp://`` URL of this server, or of a path below base_path."""
        return path_of(native_path, self._settings.host, self._settings.port, self._base)

    def _resolve(self, key: str) -> ResolutionPlan:
        s = self._settings
        return ResolutionPlan(
            kind="sftp",
            backend=self.name,
            key=key,
            native_path=self._native_path(key),
            details=FrozenMap(
                {
                    "host": s.host,
                    "port": s.port,
                    "username": s.username,
                    "path": self._files.path(key),
                    "host_key_policy": s.policy,
                }
            ),
        )

    # ------------------------------------------------------------------ lifecycle

    def _unwrap(self, type_hint: type[T]) -> T:
        """The paramiko ``Transport`` (open your own ``SFTPClient.from_transport`` on it:
        the backend's sessions are not to be shared)."""
        if type_hint is Transport:
            self._extensions()
            transport = self._pool.transport()
            if transport is not None:
                return transport  # type: ignore[return-value]
        raise CapabilityNotSupported(f"unwrap to {type_hint.__name__}", backend=self.name)

    def _ping(self) -> None:
        """One request: the server resolves the base path."""
        with translate("ping", None):
            self._runner.idempotent(lambda session: session.normalize("."))

    def _close(self) -> None:
        self._pool.close()


_UNPORTABLE = object()


def _portable_key(pkey: Any) -> Any:
    """*pkey* as it can cross a process boundary: a key file path as an absolute path, the
    key text (or anything given as a `Secret`) as a `Secret`."""
    if pkey is None or isinstance(pkey, Secret):
        return pkey
    if isinstance(pkey, str) and "-----BEGIN" in pkey:
        return Secret(pkey)
    if isinstance(pkey, str | os.PathLike):
        return os.path.abspath(os.path.expanduser(os.fspath(pkey)))
    return _UNPORTABLE


__all__ = ["SFTPBackend"]
