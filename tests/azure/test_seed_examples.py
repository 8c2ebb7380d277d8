"""Every code example of seed 000 (the Azure user guide) runs as written.

Where the guide names a real account, the Azurite connection string takes its place, as the
guide's own "Local Development with Azurite" section does. The escape-hatch example lists
paths over the DFS endpoint, which Azurite does not speak, so it runs on the HNS emulator.
"""

from __future__ import annotations

import io

import pytest
from azure.storage.filedatalake import FileSystemClient

from remote_store import BackendConfig, Registry, RegistryConfig, StoreProfile
from remote_store.backends import AzureBackend
from tests.azure_support import ACCOUNT_KEY, Azurite
from tests.hns_emulator import HnsEmulator

pytestmark = pytest.mark.azure


def test_usage_through_the_registry(azurite: Azurite) -> None:
    container = azurite.new_container("seed")
    config = RegistryConfig(
        backends={
            "my-azure": BackendConfig(
                type="azure",
                options={
                    "container": container,
                    "connection_string": azurite.connection_string,
                },
            ),
        },
        stores={"data": StoreProfile(backend="my-azure", root_path="datasets")},
    )

    with Registry(config) as registry:
        store = registry.get_store("data")
        store.write("report.csv", b"col1,col2\n1,2\n")
        data = store.read_bytes("report.csv")

    assert data == b"col1,col2\n1,2\n"


def test_direct_construction_forms_build_without_a_request() -> None:
    """The four constructions of the guide; none talks to the service until first use."""
    backend = AzureBackend(
        container="my-container",
        account_name="mystorageaccount",
        account_key="...",
    )
    backend = AzureBackend(
        container="my-container",
        account_name="mystorageaccount",
        sas_token="sv=2023-11-03&...",
    )
    backend = AzureBackend(
        container="my-container",
        connection_string=(
            f"DefaultEndpointsProtocol=https;AccountName=mystorageaccount;AccountKey={ACCOUNT_KEY};"
        ),
    )
    backend = AzureBackend(
        container="my-container",
        account_name="mystorageaccount",
    )
    assert backend.resolve("a.txt").native_path.startswith(
        "https://mystorageaccount.blob.core.windows.net/my-container/"
    )
    for secret in ("...", "sv=2023-11-03", ACCOUNT_KEY):
        assert secret not in repr(backend)


def test_azurite_section_and_streaming(azurite: Azurite) -> None:
    container = azurite.new_container("seed")
    backend = AzureBackend(
        container=container,
        connection_string=(
            "DefaultEndpointsProtocol=http;"
            "AccountName=devstoreaccount1;"
            "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq"
            "/K1SZFPTOtr/KBHBeksoGMGw==;"
            f"BlobEndpoint={azurite.endpoint};"
        ),
    )
    backend.write("large-file.bin", b"\x00\x01" * 1000)

    data = backend.read_bytes("large-file.bin")
    seekable_stream = io.BytesIO(data)

    seekable_stream.seek(1000)
    assert seekable_stream.read(2) == b"\x00\x01"
    backend.close()


def test_upload_tuning_options(azurite: Azurite) -> None:
    container = azurite.new_container("seed")
    backend = AzureBackend(
        container=container,
        connection_string=azurite.connection_string,
        client_options={
            "max_single_put_size": 8 * 1024 * 1024,  # 8 MiB
            "max_block_size": 4 * 1024 * 1024,  # 4 MiB
        },
    )
    payload = bytes(range(256)) * (9 * 1024 * 4)  # 9 MiB: above the single-put size
    backend.write("big.bin", io.BytesIO(payload))
    assert backend.read_bytes("big.bin") == payload
    backend.close()


def test_escape_hatch_unwraps_the_filesystem_client(hns_emulator: HnsEmulator) -> None:
    backend = AzureBackend(
        container="seed-unwrap",
        connection_string=hns_emulator.connection_string,
    )
    fs = backend.unwrap(FileSystemClient)
    fs.create_file_system()
    backend.write("my-prefix/a.txt", b"a")

    names = [p.name for p in fs.get_paths(path="my-prefix")]

    assert names == ["my-prefix/a.txt"]
    backend.close()
