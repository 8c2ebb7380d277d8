"""A query's result as a file: record batches encoded as Parquet, CSV or Arrow IPC while
the caller reads, one batch at a time, so the memory held is about one batch, whatever the
number of rows."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

FORMATS = {".parquet": "parquet", ".csv": "csv", ".arrow": "arrow"}


class _Collect:
    """The file object the Arrow writers write into: keeps what they wrote until taken."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0
        self.closed = False

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def writable(self) -> bool:
        return True

    def take(self) -> bytes:
        taken = b"".join(self._parts)
        self._parts.clear()
        return taken


def _writer(kind: str, sink: _Collect, schema: pa.Schema) -> Any:
    target = pa.PythonFile(sink, mode="w")
    if kind == "parquet":
        return pq.ParquetWriter(target, schema)
    if kind == "csv":
        return pa_csv.CSVWriter(target, schema)
    return pa.ipc.new_file(target, schema)


class ExportStream(io.RawIOBase):
    """The bytes of *batches* encoded as *kind*; closing it closes the query."""

    def __init__(self, kind: str, schema: pa.Schema, batches: Iterator[pa.RecordBatch]) -> None:
        super().__init__()
        self._batches = batches
        self._sink = _Collect()
        self._writer = _writer(kind, self._sink, schema)
        self._pending = b""
        self._offset = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        view = memoryview(buffer).cast("B")
        while self._offset >= len(self._pending) and not self._done:
            self._advance()
        piece = self._pending[self._offset : self._offset + len(view)]
        view[: len(piece)] = piece
        self._offset += len(piece)
        return len(piece)

    def _advance(self) -> None:
        batch = next(self._batches, None)
        if batch is None:
            self._writer.close()
            self._done = True
        else:
            self._writer.write_batch(batch)
        self._pending, self._offset = self._sink.take(), 0

    def close(self) -> None:
        if not self.closed:
            close = getattr(self._batches, "close", None)
            if close is not None:
                close()
            self._pending = b""
        super().close()
