"""The two tables of an SQLBlob store and the dialect-aware statements on them.

``<table>`` holds one row per file: its key (the primary key, compared byte-wise so a
prefix is a key range: collation ``C`` on PostgreSQL, SQLite's default ``BINARY``), the
version that holds its content (the etag), size, MD5, chunk size, modification time and
user metadata. ``<table>_chunks`` holds the content of each version, ``(version, seq)``
-> at most one chunk of bytes. A new version's chunks are written before the row points
at it, in the same transaction, so a reader never sees part of a file.
"""

from __future__ import annotations

import re
import sqlite3
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from remote_store.errors import ConfigError

_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,50}")
DIALECTS = frozenset({"sqlite", "postgresql"})
_CREATE_ATTEMPTS = 5


def _key_type() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


class Tables:
    """The objects table and its chunks table, named after *table_name*."""

    def __init__(self, table_name: str, schema: str | None = None) -> None:
        if not isinstance(table_name, str) or not _TABLE_NAME.fullmatch(table_name):
            raise ConfigError(
                "table_name must be a letter or underscore, then up to 50 letters, digits "
                f"or underscores; got {table_name!r}"
            )
        if schema is not None and (
            not isinstance(schema, str) or not _TABLE_NAME.fullmatch(schema)
        ):
            raise ConfigError(f"schema must be a plain SQL identifier, got {schema!r}")
        self.metadata = sa.MetaData(schema=schema)
        self.objects = sa.Table(
            table_name,
            self.metadata,
            sa.Column("key", _key_type(), primary_key=True),
            sa.Column("version", sa.String(32), nullable=False),
            sa.Column("size", sa.BigInteger, nullable=False),
            sa.Column("md5", sa.String(32), nullable=False),
            sa.Column("chunk_size", sa.Integer, nullable=False),
            sa.Column("modified_us", sa.BigInteger, nullable=False),
            sa.Column("metadata", sa.JSON, nullable=False),
        )
        self.chunks = sa.Table(
            f"{table_name}_chunks",
            self.metadata,
            sa.Column("version", sa.String(32), primary_key=True),
            sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("data", sa.LargeBinary, nullable=False),
        )

    def create(self, engine: sa.Engine) -> None:
        # create_all checks, then creates: processes building the store at once on a fresh
        # database (a dask cluster's workers on first use) race, and the losers' CREATE
        # fails (PostgreSQL: a duplicate type; SQLite: a busy snapshot). The tables are
        # created in one transaction, so checking again sees them whole.
        for attempt in range(_CREATE_ATTEMPTS):
            try:
                self.metadata.create_all(engine, checkfirst=True)
                return
            except (sa.exc.SQLAlchemyError, sqlite3.Error):
                if attempt == _CREATE_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))


def insert_if_absent(dialect: str, table: sa.Table, values: dict[str, Any]) -> Any:
    """``INSERT ... ON CONFLICT (key) DO NOTHING RETURNING key``: one statement that says
    whether this call created the row (psycopg reports no rowcount for it)."""
    module: Any = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).values(**values)
    return statement.on_conflict_do_nothing(index_elements=["key"]).returning(table.c.key)


def upper_bound(prefix: str) -> str | None:
    """The least string greater than every string starting with *prefix* (``None`` for
    ``""``): ``a/`` -> ``a0``. Keys compare by code point on both databases."""
    if not prefix:
        return None
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)
