"""PostgreSQL for the test session, and the SQL backend factories the test folders share.

`run_postgres` starts the Debian ``postgresql`` server binaries (installed by
``scripts/install-debian.sh``) on a free loopback port: ``initdb`` and ``postgres`` refuse
to run as root, so as root they run as the ``postgres`` system user (created if missing),
with the data directory and the socket directory in a temporary folder that user owns.
``fsync=off``: the data is thrown away. Stopped by PID. Set ``SQL_POSTGRES_URL`` (an
SQLAlchemy URL, ``postgresql+psycopg://user@host:port/db``) to use a server you run yourself.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SERVICE_USER = "postgres"


@dataclass
class Postgres:
    """A running server: its SQLAlchemy URL (superuser, database ``postgres``)."""

    host: str
    port: int
    user: str
    database: str = "postgres"

    def url(self, database: str | None = None) -> str:
        db = database or self.database
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{db}"

    def admin(self) -> Any:
        """An autocommit psycopg connection to the server (for set-up and fault injection)."""
        import psycopg

        return psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname=self.database, autocommit=True
        )

    def kill_sessions(self, database: str) -> int:
        """Terminate every session on *database* (``pg_terminate_backend``) but the caller's;
        how many there were."""
        with self.admin() as admin:
            rows = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            ).fetchall()
        return len(rows)

    def new_database(self, prefix: str = "t") -> str:
        """Create a database with a fresh name and return the name."""
        name = f"{prefix}_{uuid.uuid4().hex[:16]}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=_version_key)
    if found:
        return Path(found[-1]).parent
    postgres = shutil.which("postgres")
    return Path(os.path.realpath(postgres)).parent if postgres else None


def _version_key(path: str) -> int:
    part = path.split("/")[4]
    return int(part) if part.isdigit() else 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _service_account() -> pwd.struct_passwd | None:
    """The user the server runs as: ourselves unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ],
            check=True,
        )
        return pwd.getpwnam(SERVICE_USER)


def _wait_ready(server: Postgres, process: subprocess.Popen[bytes], log: Path) -> None:
    import psycopg

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"postgres exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with server.admin():
                return
        except psycopg.OperationalError:
            time.sleep(0.1)
    pytest.fail(f"postgres did not accept connections in 60 s: {log.read_text()[-2000:]}")


@contextmanager
def run_postgres() -> Iterator[Postgres]:
    """Start a throw-away PostgreSQL server, yield it, stop it. Fails (never skips) when the
    server binaries are absent."""
    external = os.environ.get("SQL_POSTGRES_URL")
    if external:
        from sqlalchemy.engine import make_url

        parsed = make_url(external)
        yield Postgres(
            parsed.host or "127.0.0.1",
            parsed.port or 5432,
            parsed.username or "postgres",
            parsed.database or "postgres",
        )
        return
    bindir = _bindir()
    if bindir is None:
        pytest.fail(
            "PostgreSQL server binaries are not installed: run `bash scripts/install-debian.sh` "
            "(Debian package postgresql), or set SQL_POSTGRES_URL to a running server"
        )
    account = _service_account()
    # Not below pytest's basetemp: that is private to root (0700) and the server user must
    # reach its data directory.
    base = Path(tempfile.mkdtemp(prefix="remote-store-pg-"))
    data, sockets, log = base / "data", base / "sock", base / "server.log"
    sockets.mkdir()
    as_user: dict[str, Any] = {}
    if account is not None:
        os.chmod(base, 0o700)
        for path in (base, sockets):
            os.chown(path, account.pw_uid, account.pw_gid)
        as_user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    superuser = "postgres"
    subprocess.run(
        [str(bindir / "initdb"), "-D", str(data), "-U", superuser, "--auth=trust",
         "-E", "UTF8", "--locale=C", "--no-sync"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=base, **as_user,
    )  # fmt: skip
    port = _free_port()
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": str(sockets),
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",
    }
    command = [str(bindir / "postgres"), "-D", str(data)]
    for name, value in settings.items():
        command += ["-c", f"{name}={value}"]
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            command, stdout=log_file, stderr=subprocess.STDOUT, cwd=base, **as_user
        )
    server = Postgres("127.0.0.1", port, superuser)
    try:
        _wait_ready(server, process, log)
        yield server
    finally:
        # SIGINT is the server's "fast" shutdown: sessions are ended, no checkpoint wait.
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(base, ignore_errors=True)


#: The table every conformance test shares: each roots its Store in a fresh folder.
CONFORMANCE_TABLE = "conformance"


def sqlite_backend(request: pytest.FixtureRequest) -> Any:
    """An `SQLBlobBackend` on an SQLite file in the test's temporary folder."""
    from remote_store.backends.sql import SQLBlobBackend

    tmp_path: Path = request.getfixturevalue("tmp_path")
    return SQLBlobBackend(f"sqlite:///{tmp_path / 'store.db'}")


def postgres_backend(request: pytest.FixtureRequest) -> Any:
    """An `SQLBlobBackend` on the session's PostgreSQL server."""
    from remote_store.backends.sql import SQLBlobBackend

    server: Postgres = request.getfixturevalue("postgres")
    return SQLBlobBackend(server.url(), table_name=CONFORMANCE_TABLE)
