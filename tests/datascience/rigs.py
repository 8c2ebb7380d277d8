"""The stores the data-science tests run on: one backend table per kind, on the session's
real servers, its credentials as ``${VAR}`` placeholders whose values are in *env*."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

#: Kinds that can write; ``memory`` works in one process only (it cannot be pickled).
#: The writable rigs but local disk and memory (the dask tests run on these).
NETWORK_WRITABLE = [
    pytest.param("azure", marks=pytest.mark.azure),
    pytest.param("azure-hns", marks=pytest.mark.azure),
    pytest.param("s3", marks=pytest.mark.s3),
    pytest.param("sftp", marks=pytest.mark.sftp),
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
]
WRITABLE = ["local", "memory", *NETWORK_WRITABLE]

#: The environment variables a rig's configuration names.
VARIABLES = ("DS_AZ_CONN", "DS_HNS_CONN", "DS_S3_KEY", "DS_S3_SECRET")


@dataclass
class Rig:
    """A backend table (TOML-ready) and the environment its placeholders need."""

    kind: str
    options: dict[str, Any]
    env: dict[str, str] = field(default_factory=dict)


def rig(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Rig:
    """The backend table of *kind* on a fresh container, bucket, folder or table."""
    fresh = uuid.uuid4().hex[:12]
    if kind == "local":
        return Rig(kind, {"type": "local", "base_path": str(tmp_path / "disk")})
    if kind == "memory":
        return Rig(kind, {"type": "memory"})
    if kind in ("azure", "azure-hns"):
        from azure.storage.blob import BlobServiceClient

        server = request.getfixturevalue("azurite" if kind == "azure" else "hns_emulator")
        variable = "DS_AZ_CONN" if kind == "azure" else "DS_HNS_CONN"
        container = f"ds-{fresh}"
        with BlobServiceClient.from_connection_string(server.connection_string) as service:
            service.create_container(container)
        options: dict[str, Any] = {
            "type": "azure",
            "container": container,
            "connection_string": f"${{{variable}}}",
        }
        if kind == "azure-hns":
            options["hns"] = True
        return Rig(kind, options, {variable: server.connection_string})
    if kind == "s3":
        from tests.s3_support import ACCESS_KEY, REGION, SECRET_KEY

        ministack = request.getfixturevalue("ministack")
        options = {
            "type": "s3",
            "bucket": ministack.new_bucket("ds"),
            "endpoint_url": ministack.endpoint,
            "region_name": REGION,
            "key": "${DS_S3_KEY}",
            "secret": "${DS_S3_SECRET}",
        }
        return Rig(kind, options, {"DS_S3_KEY": ACCESS_KEY, "DS_S3_SECRET": SECRET_KEY})
    if kind == "sftp":
        sshd = request.getfixturevalue("sshd")
        return Rig(kind, {"type": "sftp", "host": sshd.host, **sshd.backend_options()})
    if kind == "sqlite":
        return Rig(kind, {"type": "sql-blob", "url": f"sqlite:///{tmp_path / 'lake.db'}"})
    if kind == "postgres":
        postgres = request.getfixturevalue("postgres")
        options = {"type": "sql-blob", "url": postgres.url(), "table_name": f"ds_{fresh}"}
        return Rig(kind, options)
    raise AssertionError(f"unknown kind {kind!r}")


def toml_table(options: dict[str, Any]) -> str:
    """*options* as the lines of a TOML table (str, bool, int, lists of str and tables of
    str, inline)."""
    lines = []
    for name, value in options.items():
        if isinstance(value, dict):
            pairs = ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in value.items())
            text = "{ " + pairs + " }"
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int):
            text = str(value)
        else:
            text = json.dumps(value)  # a JSON string or list of strings is valid TOML
        lines.append(f"{name} = {text}")
    return "\n".join(lines) + "\n"


def write_config(path: Path, rigged: Rig, *, store: str = "lake", root: str = "") -> str:
    """A configuration file at *path* with store *store* on *rigged*'s backend."""
    root_line = f'root_path = "{root}"\n' if root else ""
    path.write_text(
        f'[backends.b]\n{toml_table(rigged.options)}\n[stores.{store}]\nbackend = "b"\n{root_line}'
    )
    return str(path)


#: Where SQLQuery runs: a read-only store whose files are Parquet and CSV exports of queries.
QUERY_KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

SALES = [
    (2023, "Oslo", 1.0),
    (2023, "Lima", 2.0),
    (2024, "Oslo", 3.0),
    (2024, "Pune", 4.0),
    (2024, "Lima", 5.0),
    (2025, "Oslo", 6.0),
]
YEARS = (2023, 2024, 2025)


@dataclass
class QueryRig:
    """A sql-query backend table over a fresh ``sales`` table, the engine URL that reads the
    same table directly, and the queries by file name."""

    options: dict[str, Any]
    url: str
    table: str

    @property
    def queries(self) -> dict[str, str]:
        queries: dict[str, str] = self.options["queries"]
        return queries


def query_rig(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> QueryRig:
    """A fresh ``sales`` table (SQLite file or the session's PostgreSQL) and a sql-query
    backend exporting it: ``reports/sales.parquet`` and ``.csv`` (every row),
    ``reports/by_year/YEAR.parquet`` (one query per year)."""
    import sqlalchemy as sa

    table = f"sales_{uuid.uuid4().hex[:12]}"
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'shop.db'}"
    else:
        url = request.getfixturevalue("postgres").url()
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                f"CREATE TABLE {table} (year INTEGER, city TEXT, value DOUBLE PRECISION)"
            )
            connection.execute(
                sa.text(f"INSERT INTO {table} VALUES (:y, :c, :v)"),
                [{"y": y, "c": c, "v": v} for y, c, v in SALES],
            )
    finally:
        engine.dispose()
    every = f"SELECT year, city, value FROM {table} ORDER BY value"
    queries = {"reports/sales.parquet": every, "reports/sales.csv": every}
    for year in YEARS:
        queries[f"reports/by_year/{year}.parquet"] = (
            f"SELECT year, city, value FROM {table} WHERE year = {year} ORDER BY value"
        )
    return QueryRig({"type": "sql-query", "url": url, "queries": queries}, url, table)


def read_sql(rigged: QueryRig, file: str) -> Any:
    """pandas reading *file*'s query directly through SQLAlchemy: what the export must hold."""
    import pandas as pd
    import sqlalchemy as sa

    engine = sa.create_engine(rigged.url)
    try:
        with engine.connect() as connection:
            return pd.read_sql(sa.text(rigged.queries[file]), connection)
    finally:
        engine.dispose()
