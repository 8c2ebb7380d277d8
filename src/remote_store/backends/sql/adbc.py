"""SQLQuery's batches from the ADBC PostgreSQL driver: Arrow batches straight from the
server's binary COPY stream, converted to the types the SQLAlchemy path gives (numeric by
its typmod to decimals, JSON as text, driver metadata dropped), so both paths export the
same schema."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from remote_store.backends.sql.arrowtypes import (
    AdbcColumn,
    adbc_batch,
    adbc_columns,
    value_does_not_fit,
)
from remote_store.backends.sql.errors import classify
from remote_store.errors import (
    BackendUnavailable,
    ConfigError,
    RemoteStoreError,
)

_MODULE = "adbc_driver_postgresql.dbapi"
DRIVERS = ("auto", "adbc", "sqlalchemy")
_BATCH_BYTES = "adbc.postgresql.batch_size_hint_bytes"
#: Bytes of COPY data the ADBC driver turns into one Arrow batch.
BATCH_BYTES = 4 * 1024 * 1024


def choose(driver: str, engine: sa.Engine) -> Any:
    """The ADBC DB-API module to use, or ``None`` for the SQLAlchemy path."""
    if driver not in DRIVERS:
        raise ConfigError(f"driver must be one of {', '.join(DRIVERS)}, got {driver!r}")
    if driver == "sqlalchemy" or engine.dialect.name != "postgresql":
        if driver == "adbc":
            raise ConfigError("driver='adbc' serves PostgreSQL only")
        return None
    try:
        return importlib.import_module(_MODULE)
    except ImportError:
        if driver == "adbc":
            raise ConfigError(
                "driver='adbc' needs adbc-driver-postgresql: pip install adbc-driver-postgresql"
            ) from None
        return None


@contextmanager
def _translated(key: str) -> Iterator[None]:
    try:
        yield
    except RemoteStoreError:
        raise
    except Exception as error:
        if type(error).__module__.startswith("adbc_driver"):
            failure = classify(error, "read", key)
            if type(error).__name__ in ("OperationalError", "InterfaceError") and not getattr(
                error, "sqlstate", None
            ):
                failure = BackendUnavailable(f"read {key!r}: the database could not be reached")
            raise failure from None
        raise


def run(
    module: Any, engine: sa.Engine, key: str, query: str
) -> tuple[list[AdbcColumn], Iterator[pa.RecordBatch]]:
    uri = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with _translated(key):
        connection = module.connect(uri)
        try:
            cursor = connection.cursor()
            # The driver cuts batches by bytes (16 MiB by default); smaller ones bound memory.
            cursor.adbc_statement.set_options(**{_BATCH_BYTES: str(BATCH_BYTES)})
            cursor.execute(query)
            reader = cursor.fetch_record_batch()
        except BaseException:
            connection.close()
            raise
    columns = adbc_columns(reader.schema)
    return columns, _batches(key, connection, cursor, reader, columns)


def _batches(
    key: str, connection: Any, cursor: Any, reader: Any, columns: list[AdbcColumn]
) -> Iterator[pa.RecordBatch]:
    schema = pa.schema([column.field for column in columns])
    try:
        with _translated(key):
            for batch in reader:
                try:
                    yield adbc_batch(columns, schema, batch)
                except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
                    raise value_does_not_fit(key, error) from None
    finally:
        cursor.close()
        connection.close()
