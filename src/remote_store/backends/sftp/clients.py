"""Connecting: the client key, the server's host key checked against what the caller
trusts, and authentication. Credentials live in `Secret`s and never reach a message."""

from __future__ import annotations

import io
import logging
import os
import socket
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paramiko
from paramiko import HostKeys, PKey, Transport
from paramiko.hostkeys import HostKeyEntry, InvalidHostKey

from remote_store.config import Secret
from remote_store.errors import BackendUnavailable, ConfigError, PermissionDenied

log = logging.getLogger("remote_store.sftp")

HOST_KEY_POLICIES = ("strict", "accept-new")
_KEY_CLASSES: tuple[type[PKey], ...] = (
    paramiko.Ed25519Key,
    paramiko.ECDSAKey,
    paramiko.RSAKey,
)


class HostKeyRejected(PermissionDenied):
    """The server's host key is not one the backend was told to trust."""


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    username: str
    password: Secret | None
    pkey: PKey | None = field(repr=False)
    host_keys: HostKeys = field(repr=False)
    policy: str
    timeout: float
    keepalive: int

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def host_key_name(self) -> str:
        """The name known_hosts files use for this server: ``host`` or ``[host]:port``."""
        return self.host if self.port == 22 else f"[{self.host}]:{self.port}"


def load_pkey(pkey: Any, passphrase: Any) -> PKey | None:
    """A paramiko key from a key object, a key file path, or the key text (str or
    `Secret`), decrypted with *passphrase* when given."""
    if pkey is None or isinstance(pkey, PKey):
        return pkey
    secret = None if passphrase is None else Secret(passphrase).reveal()
    if isinstance(pkey, os.PathLike):
        return _from_file(Path(pkey), secret)
    if not isinstance(pkey, str | Secret):
        raise ConfigError(
            f"pkey must be a paramiko key, a key file path or the key text, "
            f"got {type(pkey).__name__}"
        )
    text = Secret(pkey).reveal()
    if "-----BEGIN" in text:
        return _from_text(text, secret)
    return _from_file(Path(text).expanduser(), secret)


def _from_file(path: Path, passphrase: str | None) -> PKey:
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError(f"cannot read the key file {str(path)!r}: {error.strerror}") from None
    return _from_text(text, passphrase)


def _from_text(text: str, passphrase: str | None) -> PKey:
    for kind in _KEY_CLASSES:
        try:
            return kind.from_private_key(io.StringIO(text), password=passphrase)
        except paramiko.PasswordRequiredException:
            raise ConfigError("the private key is encrypted: pass passphrase=") from None
        except (paramiko.SSHException, ValueError):
            continue
    # No detail: a parser's message could quote part of the key.
    raise ConfigError(
        "pkey is not a private key paramiko can read (ed25519, ECDSA or RSA; OpenSSH or PEM), "
        "or the passphrase is wrong"
    )


def load_host_keys(lines: Any, path: Any) -> HostKeys:
    """The host keys the caller trusts: known_hosts lines and/or a known_hosts file."""
    keys = HostKeys()
    if path is not None:
        try:
            keys.load(os.fspath(Path(os.fspath(path)).expanduser()))
        except OSError as error:
            raise ConfigError(
                f"cannot read host_keys_path {os.fspath(path)!r}: {error.strerror}"
            ) from None
        except (InvalidHostKey, paramiko.SSHException, ValueError):
            raise ConfigError(
                f"host_keys_path {os.fspath(path)!r} is not a known_hosts file"
            ) from None
    if lines is None:
        return keys
    if isinstance(lines, str):
        lines = lines.splitlines()
    if not isinstance(lines, list | tuple) or not all(isinstance(x, str) for x in lines):
        raise ConfigError("known_host_keys must be a str or a list of known_hosts lines")
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            entry = HostKeyEntry.from_line(line.strip())
        except (InvalidHostKey, paramiko.SSHException, ValueError, TypeError):
            entry = None
        if entry is None or entry.key is None:
            raise ConfigError(
                f"known_host_keys line {number} is not a known_hosts line "
                "('[host]:port ssh-ed25519 AAAA...')"
            )
        keys._entries.append(entry)  # type: ignore[attr-defined]  # keeps hashed names
    return keys


def fingerprint(key: PKey) -> str:
    return f"{key.get_name()} {key.fingerprint}"


def connect(settings: Settings) -> Transport:
    """A transport that verified the host key and authenticated, with a keepalive."""
    try:
        sock = socket.create_connection((settings.host, settings.port), settings.timeout)
    except OSError as error:
        raise BackendUnavailable(
            f"cannot connect to the SFTP server {settings.where}: "
            f"{error.strerror or type(error).__name__}",
            backend="sftp",
        ) from None
    transport = Transport(sock)
    try:
        transport.banner_timeout = settings.timeout
        transport.auth_timeout = settings.timeout
        known = settings.host_keys.lookup(settings.host_key_name)
        if known:
            # Negotiate a key type we can check, not one the server merely prefers.
            transport.get_security_options().key_types = [
                kind for kind in transport.get_security_options().key_types if kind in known
            ] or list(transport.get_security_options().key_types)
        transport.start_client(timeout=settings.timeout)
        _check_host_key(settings, transport.get_remote_server_key())
        _authenticate(settings, transport)
        transport.set_keepalive(settings.keepalive)
        return transport
    except BaseException as error:
        transport.close()
        if isinstance(error, PermissionDenied | BackendUnavailable | ConfigError):
            raise
        if isinstance(error, paramiko.SSHException | OSError | EOFError):
            raise BackendUnavailable(
                f"SSH handshake with {settings.where} failed ({type(error).__name__})",
                backend="sftp",
            ) from None
        raise


def _check_host_key(settings: Settings, offered: PKey) -> None:
    name = settings.host_key_name
    known = settings.host_keys.lookup(name)
    if known is not None and offered.get_name() in known:
        if known[offered.get_name()] == offered:
            return
        raise HostKeyRejected(
            f"the host key of {name} has CHANGED: the server offered {fingerprint(offered)}, "
            "which is not the key you trust for it. Someone may be intercepting the "
            "connection; if the server's key was really replaced, update known_host_keys",
            backend="sftp",
            retryable=False,
        )
    if settings.policy == "accept-new" and known is None:
        log.warning(
            "SFTP: trusting the unknown host key of %s (%s) because host_key_policy="
            "'accept-new'; add it to known_host_keys to pin it",
            name,
            fingerprint(offered),
        )
        settings.host_keys.add(name, offered.get_name(), offered)
        return
    raise HostKeyRejected(
        f"the host key of {name} ({fingerprint(offered)}) is not trusted: pass its "
        "known_hosts line in known_host_keys (see `ssh-keyscan -p PORT HOST`) or "
        "host_keys_path, or accept unknown keys explicitly with host_key_policy='accept-new'",
        backend="sftp",
        retryable=False,
    )


def _authenticate(settings: Settings, transport: Transport) -> None:
    tried = []
    if settings.pkey is not None:
        tried.append("publickey")
        with suppress(paramiko.AuthenticationException):
            transport.auth_publickey(settings.username, settings.pkey)
    if not transport.is_authenticated() and settings.password is not None:
        tried.append("password")
        with suppress(paramiko.AuthenticationException):
            transport.auth_password(settings.username, settings.password.reveal())
    if not transport.is_authenticated():
        raise PermissionDenied(
            f"SFTP server {settings.where} refused user {settings.username!r} "
            f"({' and '.join(tried)} authentication failed)",
            backend="sftp",
            retryable=False,
        )
