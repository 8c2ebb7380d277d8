"""SFTP-010..016: host keys are checked, credentials are refused with typed errors, and no
secret shows in a message, a repr, a log or a pickle."""

from __future__ import annotations

import logging
import pickle
from typing import Any

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from remote_store.backends.sftp import HostKeyRejected, SFTPBackend
from remote_store.config import Secret
from remote_store.errors import ConfigError, InvalidArgument, PermissionDenied
from tests.sftp_support import Account, Sshd

pytestmark = pytest.mark.sftp

PASSWORD = "correct-horse-battery-staple-42"


def _other_host_line(server: Sshd) -> str:
    key = Ed25519PrivateKey.generate().public_key()
    public = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return f"[{server.host}]:{server.port} {public.decode()}"


def _secrets_absent(text: str, server: Sshd) -> None:
    assert PASSWORD not in text
    body = "".join(server.client_key_text.splitlines()[1:-1])
    assert body[:40] not in text.replace("\n", "")


def test_unknown_host_key_is_refused_by_default(sshd: Sshd) -> None:
    """SFTP-010: strict by default: no trusted key for the server, no connection."""
    backend = sshd.backend(known_host_keys=None)
    with pytest.raises(HostKeyRejected) as caught:
        backend.get_file_info("x")
    error = caught.value
    assert isinstance(error, PermissionDenied)
    assert not error.retryable
    assert "not trusted" in str(error)
    assert "SHA256:" in str(error)  # the fingerprint to compare out of band
    backend.close()


def test_wrong_host_key_is_refused_even_when_accepting_new_ones(sshd: Sshd) -> None:
    """SFTP-011: a key that differs from the trusted one is refused under every policy."""
    for policy in ("strict", "accept-new"):
        backend = sshd.backend(known_host_keys=[_other_host_line(sshd)], host_key_policy=policy)
        with pytest.raises(HostKeyRejected, match="CHANGED"):
            backend.ping()
        backend.close()


def test_accept_new_trusts_and_logs_then_pins(sshd: Sshd, caplog: pytest.LogCaptureFixture) -> None:
    """SFTP-012: accepting an unknown key is explicit and logged with its fingerprint."""
    backend = sshd.backend(known_host_keys=None, host_key_policy="accept-new")
    with caplog.at_level(logging.WARNING, logger="remote_store.sftp"):
        backend.write("a.txt", b"a")
    assert any(
        "accept-new" in r.getMessage() and "SHA256:" in r.getMessage() for r in caplog.records
    )
    assert backend.read_bytes("a.txt") == b"a"
    backend.close()


def test_host_keys_path_is_read(sshd: Sshd, tmp_path: pytest.TempPathFactory) -> None:
    """SFTP-010: a known_hosts file works like the lines."""
    known = tmp_path / "known_hosts"  # type: ignore[operator]
    known.write_text(sshd.known_hosts_line + "\n")
    backend = sshd.backend(known_host_keys=None, host_keys_path=str(known))
    backend.ping()
    backend.close()


def test_wrong_password_is_refused_without_quoting_it(
    sshd: Sshd, caplog: pytest.LogCaptureFixture
) -> None:
    """SFTP-013: a refused password is PermissionDenied, not retried, and appears in no
    message, log record or repr. (The test user is root with PermitRootLogin
    prohibit-password: any password is refused, which is what this test needs.)"""
    backend = SFTPBackend(
        sshd.host,
        port=sshd.port,
        username=sshd.username,
        password=PASSWORD,
        known_host_keys=[sshd.known_hosts_line],
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(PermissionDenied) as caught:
        backend.ping()
    error = caught.value
    assert not isinstance(error, HostKeyRejected)
    assert not error.retryable
    assert "password" in str(error)
    everything = "\n".join(
        [str(error), repr(error), repr(backend), caplog.text, repr(backend.resolve(""))]
    )
    _secrets_absent(everything, sshd)
    assert PASSWORD.encode() not in pickle.dumps(error)
    backend.close()


def test_password_login_and_a_wrong_password(
    sshd: Sshd, password_account: Account, caplog: pytest.LogCaptureFixture
) -> None:
    """SFTP-017: a throwaway account (random password, its own folder) logs in with its
    password and reads back what it wrote; a wrong password for it is PermissionDenied,
    not retried, quoting neither the wrong password nor the right one."""
    options: dict[str, Any] = {"port": sshd.port, "known_host_keys": [sshd.known_hosts_line]}
    good = SFTPBackend(
        sshd.host,
        username=password_account.name,
        password=Secret(password_account.password),
        base_path=str(password_account.home),
        **options,
    )
    try:
        good.write("mine.txt", b"logged in")
        assert good.read_bytes("mine.txt") == b"logged in"
        assert (password_account.home / "mine.txt").stat().st_uid != 0  # the account's
    finally:
        good.close()
    bad = SFTPBackend(sshd.host, username=password_account.name, password=PASSWORD, **options)
    with caplog.at_level(logging.DEBUG), pytest.raises(PermissionDenied) as caught:
        bad.ping()
    error = caught.value
    assert not isinstance(error, HostKeyRejected)
    assert not error.retryable
    assert password_account.name in str(error) and "password" in str(error)
    everything = "\n".join([str(error), repr(error), repr(bad), caplog.text])
    _secrets_absent(everything, sshd)
    assert password_account.password not in everything
    assert PASSWORD.encode() not in pickle.dumps(error)
    bad.close()


def test_wrong_client_key_is_refused(sshd: Sshd) -> None:
    """SFTP-013: a key the server does not know is PermissionDenied."""
    stranger = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    backend = sshd.backend(pkey=Secret(stranger.decode()))
    with pytest.raises(PermissionDenied, match="publickey"):
        backend.ping()
    backend.close()


def test_key_text_and_passphrase(sshd: Sshd) -> None:
    """SFTP-014: the key as text in a Secret; an encrypted key needs its passphrase, and a
    wrong one is a ConfigError that quotes neither."""
    key = serialization.load_ssh_private_key(sshd.client_key_text.encode(), password=None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.BestAvailableEncryption(PASSWORD.encode()),
    ).decode()
    plain = sshd.backend(pkey=Secret(sshd.client_key_text))
    plain.ping()
    plain.close()
    unlocked = sshd.backend(pkey=Secret(encrypted), passphrase=Secret(PASSWORD))
    unlocked.ping()
    unlocked.close()
    for passphrase in (None, "wrong"):
        with pytest.raises(ConfigError) as caught:
            sshd.backend(pkey=Secret(encrypted), passphrase=passphrase)
        _secrets_absent(str(caught.value), sshd)
        assert encrypted[40:80] not in str(caught.value)


def test_repr_resolve_and_pickle_leak_nothing(sshd: Sshd) -> None:
    """SFTP-015: repr and resolve name the server, never a credential. DS-031: a pickle
    carries the credentials as `Secret` and no connection; a paramiko key object cannot
    travel and is refused with InvalidArgument."""
    backend = sshd.backend(pkey=Secret(sshd.client_key_text), password=PASSWORD)
    backend.ping()
    shown = repr(backend) + repr(backend.resolve("a/b")) + backend.native_path("a/b")
    _secrets_absent(shown, sshd)
    assert sshd.host in shown
    rebuilt = pickle.loads(pickle.dumps(backend))
    assert isinstance(rebuilt._options["password"], Secret)
    assert isinstance(rebuilt._options["pkey"], Secret)
    _secrets_absent(repr(rebuilt) + repr(rebuilt._options), sshd)
    rebuilt.ping()
    rebuilt.close()
    backend.close()
    key_object = paramiko.Ed25519Key.from_private_key_file(str(sshd.client_key_path))
    holding_an_object = sshd.backend(pkey=key_object)
    with holding_an_object, pytest.raises(InvalidArgument, match="paramiko key object"):
        pickle.dumps(holding_an_object)


def test_bad_options_are_config_errors(sshd: Sshd) -> None:
    """SFTP-016: bad options answer with ConfigError before any connection."""
    bad: list[dict[str, object]] = [
        {"port": 0},
        {"port": "22"},
        {"host_key_policy": "yes"},
        {"known_host_keys": ["not a key line"]},
        {"max_sessions": 0},
        {"timeout": -1},
        {"pkey": 42},
        {"pkey": "/nonexistent/key"},
    ]
    for options in bad:
        with pytest.raises(ConfigError):
            sshd.backend(**options)
    with pytest.raises(ConfigError, match="password= or pkey="):
        SFTPBackend(sshd.host, port=sshd.port, known_host_keys=[sshd.known_hosts_line])
