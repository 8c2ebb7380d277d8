"""OpenSSH's sshd for the test session, and the SFTP backend fixtures the test folders share.

`run_sshd` starts ``/usr/sbin/sshd -D -e -f <config>`` (Debian ``openssh-server``, installed
by ``scripts/install-debian.sh``, never enabled as a service) on a free 127.0.0.1 port, with a
temporary ed25519 host key and an authorized ed25519 client key, and stops it by PID.

Authentication: the tests run as whoever runs pytest (root in CI). sshd can only log a user
in as that user when it is not root, and creating a system user with a password would change
the machine, so the tests log in **with a key** as the current user. ``PermitRootLogin
prohibit-password`` keeps root's password out of reach even though ``PasswordAuthentication``
is on: the password tests check that a wrong password is refused with a typed error, which
needs no account with a known password.
"""

from __future__ import annotations

import getpass
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

if TYPE_CHECKING:  # paramiko is an extra: importing this module must not need it
    from remote_store.backends.sftp import SFTPBackend

SSHD = "/usr/sbin/sshd"
PRIVSEP_DIR = Path("/run/sshd")


def _keypair() -> tuple[str, str]:
    """A new ed25519 key: (private key in OpenSSH format, public key line)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    return private, public


@dataclass
class Sshd:
    """A running sshd: where it listens, its keys, and the folder it serves files from."""

    host: str
    port: int
    pid: int
    username: str
    client_key_path: Path
    client_key_text: str
    host_public_key: str  # "ssh-ed25519 AAAA..."
    data_dir: Path  # tests create their base_path below this
    config: Path
    log: Path
    processes: list[subprocess.Popen[bytes]]

    @property
    def known_hosts_line(self) -> str:
        return f"[{self.host}]:{self.port} {self.host_public_key}"

    def new_base(self, prefix: str = "t") -> str:
        """A fresh, not yet existing folder below the data folder, as an absolute path."""
        return str(self.data_dir / f"{prefix}-{uuid.uuid4().hex[:16]}")

    def backend_options(self, **overrides: Any) -> dict[str, Any]:
        options: dict[str, Any] = {
            "port": self.port,
            "username": self.username,
            "pkey": str(self.client_key_path),
            "known_host_keys": [self.known_hosts_line],
            "base_path": self.new_base(),
        }
        options.update(overrides)
        return options

    def backend(self, **overrides: Any) -> SFTPBackend:
        from remote_store.backends.sftp import SFTPBackend

        return SFTPBackend(self.host, **self.backend_options(**overrides))

    def session_pids(self) -> list[int]:
        """PIDs of the per-connection processes this sshd forked (children of its PID)."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        with suppress(OSError):
            return [int(pid) for pid in children.read_text().split()]
        return []

    def start(self) -> None:
        """Start sshd (again, after `kill`) with the same config, keys and port."""
        with self.log.open("ab") as out:
            process = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(self.config)], stdout=out, stderr=subprocess.STDOUT
            )
        self.processes.append(process)
        self.pid = process.pid
        _wait_for_port(self.port, process, self.log)

    def kill(self) -> None:
        """Kill sshd and every connection it serves, as a crash or a reboot would."""
        pids = self.session_pids()
        with suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15.0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"sshd exited with code {process.returncode}:\n{log.read_text()[-2000:]}")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    pytest.fail(f"sshd did not listen on 127.0.0.1:{port} within 15 s")


@contextmanager
def run_sshd(location: Path, sftp_flags: str = "") -> Iterator[Sshd]:
    """Start sshd with a config, keys and data folder in *location*; stop it by PID. Fails
    (never skips) when sshd is not installed. *sftp_flags* go to ``internal-sftp`` (as
    ``-P hardlink``, which makes it neither announce nor serve hardlink@openssh.com)."""
    if not os.access(SSHD, os.X_OK):
        pytest.fail(f"{SSHD} is missing: run `bash scripts/install-debian.sh` (openssh-server)")
    if os.geteuid() == 0 and not PRIVSEP_DIR.is_dir():
        # sshd running as root refuses to start without its privilege separation folder.
        PRIVSEP_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
    location.mkdir(parents=True, exist_ok=True)
    host_private, host_public = _keypair()
    client_private, client_public = _keypair()
    host_key = location / "host_ed25519"
    host_key.write_text(host_private)
    host_key.chmod(0o600)
    client_key = location / "client_ed25519"
    client_key.write_text(client_private)
    client_key.chmod(0o600)
    authorized = location / "authorized_keys"
    authorized.write_text(client_public + "\n")
    data = location / "data"
    data.mkdir()
    port = _free_port()
    config = location / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {host_key}",
                f"PidFile {location / 'sshd.pid'}",
                f"AuthorizedKeysFile {authorized}",
                "PubkeyAuthentication yes",
                "PasswordAuthentication yes",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "UsePAM no",
                "StrictModes no",
                "MaxSessions 10",
                "MaxStartups 100",
                "LogLevel ERROR",
                f"Subsystem sftp internal-sftp {sftp_flags}".rstrip(),
                "",
            ]
        )
    )
    server = Sshd(
        host="127.0.0.1",
        port=port,
        pid=0,
        username=getpass.getuser(),
        client_key_path=client_key,
        client_key_text=client_private,
        host_public_key=" ".join(host_public.split()[:2]),
        data_dir=data,
        config=config,
        log=location / "sshd.log",
        processes=[],
    )
    try:
        server.start()
        yield server
    finally:
        server.kill()
        for process in server.processes:
            process.wait()
        shutil.rmtree(data, ignore_errors=True)


@dataclass
class Account:
    name: str
    password: str
    home: Path  # a folder the account owns, for its files


@contextmanager
def throwaway_user() -> Iterator[Account]:
    """A local account with a random password and a folder of its own; removed after.
    Needs root (`pytest.skip` otherwise, saying so); a failing ``useradd`` fails."""
    if os.geteuid() != 0:
        pytest.skip(
            "a password login needs a local account with a known password, which only root "
            "can create (CI runs the tests as root)"
        )
    name = f"rs-sftp-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(18)
    # Not below pytest's own temporary folder, which only root may enter.
    home = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    made = subprocess.run(
        ["useradd", "--no-create-home", "--home-dir", str(home), "--shell", "/bin/sh", name],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        pytest.fail(f"useradd failed: {made.stderr.strip()}")
    try:
        subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True)
        shutil.chown(home, user=name)
        yield Account(name, password, home)
    finally:
        subprocess.run(["userdel", "--force", name], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def conformance_backend(request: pytest.FixtureRequest) -> SFTPBackend:
    """An `SFTPBackend` on the session's sshd, in a fresh folder (the conformance factory)."""
    server: Sshd = request.getfixturevalue("sshd")
    return server.backend()
