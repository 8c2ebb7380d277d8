"""DS-023: reading one column of one row group of a Parquet file on Azurite through the
PyArrow and fsspec filesystems moves about that column chunk plus the footer, counted by
the fault proxy (response-body bytes), the figure `benchmarks.datascience` reports at
100 MB. Deterministic: the same requests and bytes on every run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from remote_store.arrowfs import arrow_filesystem
from remote_store.backends.azure import AzureBackend
from remote_store.fsspec import RemoteStoreFileSystem
from remote_store.store import Store
from tests.azure_support import Azurite
from tests.fault_proxy import FaultProxy

pytestmark = pytest.mark.azure

COLUMNS, GROUPS, GROUP, COLUMN = 10, 10, 4, 3
MEGABYTES = 16  # big enough that the old 8 MiB first GET stands out


@pytest.fixture(scope="module")
def parquet() -> bytes:
    rows = MEGABYTES * 1024 * 1024 // (8 * COLUMNS)
    rng = np.random.default_rng(21)  # random floats: Parquet cannot shrink them
    table = pa.table({f"c{i}": rng.random(rows) for i in range(COLUMNS)})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, row_group_size=-(-rows // GROUPS))
    return bytes(sink.getvalue().to_pybytes())


@pytest.fixture
def store(azurite: Azurite, azurite_proxy: FaultProxy, parquet: bytes) -> Iterator[Store]:
    container = azurite.new_container("budget")
    backend = AzureBackend(container, connection_string=azurite_proxy.connection_string)
    with Store(backend) as opened:
        opened.write("big.parquet", parquet)
        yield opened


def _column_and_footer(parquet: bytes) -> int:
    meta = pq.ParquetFile(pa.BufferReader(parquet)).metadata
    chunk = meta.row_group(GROUP).column(COLUMN).total_compressed_size
    return int(chunk + meta.serialized_size + 8)


OPENERS: dict[str, Callable[[Store], Any]] = {
    "pyarrow.fs": lambda store: arrow_filesystem(store).open_input_file("big.parquet"),
    "fsspec": lambda store: RemoteStoreFileSystem(store=store).open("big.parquet", "rb"),
}


@pytest.mark.parametrize("client", sorted(OPENERS))
def test_one_column_of_one_row_group_moves_about_that_column(
    store: Store, azurite_proxy: FaultProxy, parquet: bytes, client: str
) -> None:
    """DS-023, AZ-039: within 1.5 x (column chunk + footer), in three requests (a HEAD, the
    footer's 64 KiB, the column chunk), where opening the file alone used to fetch 8 MiB."""
    azurite_proxy.clear()
    with OPENERS[client](store) as handle:
        table = pq.ParquetFile(handle).read_row_group(GROUP, columns=[f"c{COLUMN}"])
    assert (
        table.num_rows
        == pq.ParquetFile(pa.BufferReader(parquet)).metadata.row_group(GROUP).num_rows
    )
    stats = azurite_proxy.stats()
    needed = _column_and_footer(parquet)
    assert stats.bytes_down <= 1.5 * needed, (needed, azurite_proxy.show())
    assert [e.method for e in azurite_proxy.log()] == ["HEAD", "GET", "GET"], azurite_proxy.show()
