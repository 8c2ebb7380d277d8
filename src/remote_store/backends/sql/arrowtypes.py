"""Database column types -> Arrow types, so an export keeps the database's types: decided
from the result's description (PostgreSQL type OIDs; SQLite declared column types), never
from the values, so an empty result has its schema and NULLs are typed."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa

from remote_store.errors import InvalidArgument

#: A NUMERIC without precision and scale: its values fit this (else the read fails).
UNCONSTRAINED_DECIMAL = pa.decimal128(38, 18)

_PG: dict[int, pa.DataType] = {
    16: pa.bool_(),
    17: pa.binary(),
    20: pa.int64(),
    21: pa.int16(),
    23: pa.int32(),
    26: pa.int64(),
    700: pa.float32(),
    701: pa.float64(),
    1082: pa.date32(),
    1083: pa.time64("us"),
    1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"),
}
_PG_NUMERIC = 1700
_PG_JSON = frozenset({114, 3802})


@dataclass(frozen=True)
class Column:
    """One result column: its Arrow field and how a driver value becomes an Arrow value."""

    field: pa.Field
    convert: Callable[[Any], Any] | None = None


def _text(value: Any) -> Any:
    return value if value is None or isinstance(value, str) else str(value)


def _json(value: Any) -> Any:
    return None if value is None else json.dumps(value)


def _bool(value: Any) -> Any:
    return None if value is None else bool(value)


def _decimal(value: Any) -> Any:
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def postgres_columns(description: Sequence[Any]) -> list[Column]:
    columns = []
    for item in description:
        name, oid = item[0], item[1]
        if oid == _PG_NUMERIC:
            precision, scale = item[4], item[5]
            kind = (
                pa.decimal128(precision, scale)
                if precision and 0 < precision <= 38
                else UNCONSTRAINED_DECIMAL
            )
            columns.append(Column(pa.field(name, kind), _decimal))
        elif oid in _PG_JSON:
            columns.append(Column(pa.field(name, pa.string()), _json))
        elif oid in _PG:
            columns.append(Column(pa.field(name, _PG[oid])))
        else:
            columns.append(Column(pa.field(name, pa.string()), _text))
    return columns


_DECIMAL = re.compile(r"(?:NUMERIC|DECIMAL)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)")


def sqlite_column(name: str, declared: str) -> Column:
    """SQLite's affinity rules (section 3.1 of its datatype page) on the declared type."""
    upper = declared.upper()
    if "INT" in upper:
        return Column(pa.field(name, pa.int64()))
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return Column(pa.field(name, pa.string()), _text)
    if "BLOB" in upper:
        return Column(pa.field(name, pa.binary()))
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return Column(pa.field(name, pa.float64()))
    if "BOOL" in upper:
        return Column(pa.field(name, pa.bool_()), _bool)
    match = _DECIMAL.search(upper)
    if match:
        precision, scale = int(match[1]), int(match[2] or 0)
        return Column(pa.field(name, pa.decimal128(min(precision, 38), scale)), _decimal)
    if "NUMERIC" in upper or "DECIMAL" in upper:
        return Column(pa.field(name, UNCONSTRAINED_DECIMAL), _decimal)
    # No declared type (an expression) or one SQLite keeps as text (DATE, DATETIME).
    return Column(pa.field(name, pa.string()), _text)


def to_batch(columns: Sequence[Column], schema: pa.Schema, rows: Sequence[Any]) -> pa.RecordBatch:
    arrays = []
    for index, column in enumerate(columns):
        values = [row[index] for row in rows]
        if column.convert is not None:
            values = [column.convert(value) for value in values]
        arrays.append(pa.array(values, type=column.field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _adbc_decimal(typmod: int) -> pa.DataType:
    # PostgreSQL packs numeric(p, s) as ((p << 16) | s) + 4; -1 is unconstrained.
    if typmod < 4:
        return UNCONSTRAINED_DECIMAL
    precision, scale = (typmod - 4) >> 16, (typmod - 4) & 0xFFFF
    return pa.decimal128(precision, scale) if 0 < precision <= 38 else UNCONSTRAINED_DECIMAL


@dataclass(frozen=True)
class AdbcColumn:
    """How one column of an ADBC PostgreSQL batch becomes the column the SQLAlchemy path
    would give: the same Arrow type, no driver metadata."""

    field: pa.Field
    kind: str  # "keep", "decimal", "storage" (JSON text) or "text" (anything else as str)


def adbc_columns(schema: pa.Schema) -> list[AdbcColumn]:
    columns = []
    for field in schema:
        meta = field.metadata or {}
        pg_type = meta.get(b"POSTGRESQL:type", b"").decode()
        if pg_type == "numeric":
            typmod = int(meta.get(b"POSTGRESQL:typmod", b"-1"))
            columns.append(AdbcColumn(pa.field(field.name, _adbc_decimal(typmod)), "decimal"))
        elif pg_type in ("json", "jsonb"):
            columns.append(AdbcColumn(pa.field(field.name, pa.string()), "storage"))
        elif isinstance(field.type, pa.ExtensionType) or pg_type in ("int2", "oid"):
            kind = "keep" if pg_type == "int2" else "text"
            target = pa.int16() if pg_type == "int2" else pa.string()
            target = pa.int64() if pg_type == "oid" else target
            columns.append(AdbcColumn(pa.field(field.name, target), kind))
        else:
            columns.append(AdbcColumn(pa.field(field.name, field.type), "keep"))
    return columns


def adbc_batch(columns: Sequence[AdbcColumn], schema: pa.Schema, batch: pa.RecordBatch) -> Any:
    import pyarrow.compute as pc

    arrays = []
    for column, array in zip(columns, batch.columns, strict=True):
        if column.kind == "decimal":
            array = pc.cast(_storage(array), column.field.type)
        elif column.kind == "storage":
            array = _storage(array)
        elif column.kind == "text":
            array = pa.array([_text(v) for v in array.to_pylist()], type=pa.string())
        elif array.type != column.field.type:
            array = pc.cast(_storage(array), column.field.type)
        arrays.append(array)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _storage(array: Any) -> Any:
    return array.storage if isinstance(array, pa.ExtensionArray) else array


def value_does_not_fit(key: str, error: Exception) -> InvalidArgument:
    """The error for a query value Arrow refuses in its column's type (never quoting it)."""
    return InvalidArgument(
        f"read {key!r}: a value does not fit its column's type ({type(error).__name__})",
        path=key,
    )
