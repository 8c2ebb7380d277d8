"""Every code example of seed 000 (the Azure user guide) runs as written.

Where the guide names a real account, the Azurite connection string takes its place, as the
guide's own "Local Development with Azurite" section does. The escape-hatch example lists
paths over the DFS endpoint, which Azurite does not speak, so it runs on the HNS emulator.
The API reference's contracts (``resolve``, ``delete_folder``, ``get_file_info``, the
metadata and write-result fields) run on both.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas
from azure.storage.filedatalake import FileSystemClient

from remote_store import BackendConfig, Registry, RegistryConfig, StoreProfile
from remote_store.backends import AzureBackend
from remote_store.errors import DirectoryNotEmpty, InvalidPath, NotFound
from remote_store.models import ContentDigest, ResolutionPlan
from tests.azure_support import ACCOUNT, ACCOUNT_KEY, Azurite
from tests.hns_emulator import HnsEmulator


@pytest.mark.azure
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


@pytest.mark.azure
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


@pytest.mark.azure
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


# ---------------------------------------------------------------------- the guide's contracts


@pytest.fixture(
    params=[pytest.param("flat", marks=pytest.mark.azure), "hns"],
)
def guide_backend(request: pytest.FixtureRequest) -> Iterator[AzureBackend]:
    """A backend as the guide builds it (connection string, HNS detected), on Azurite
    (flat) or the HNS emulator, in a fresh container."""
    if request.param == "flat":
        conn = request.getfixturevalue("azurite").connection_string
    else:
        conn = request.getfixturevalue("hns_emulator").connection_string
    name = f"guide-{uuid.uuid4().hex[:12]}"
    with BlobServiceClient.from_connection_string(conn) as service:
        service.create_container(name)
        with AzureBackend(container=name, connection_string=conn) as backend:
            yield backend
        service.delete_container(name)


@pytest.mark.azure
def test_account_key_and_sas_constructions_talk_to_azurite(azurite: Azurite) -> None:
    """The account-key and SAS forms of "Direct construction", pointed at Azurite: the
    guide's account_name builds the public cloud's URL, so Azurite's account_url is given
    beside it (the guide's own option for a full account URL)."""
    container = azurite.new_container("seed")
    backend = AzureBackend(
        container=container,
        account_name=ACCOUNT,
        account_url=azurite.endpoint,
        account_key=ACCOUNT_KEY,
    )
    backend.write("by-key.txt", b"key")
    sas = generate_container_sas(
        ACCOUNT,
        container,
        account_key=ACCOUNT_KEY,
        permission=ContainerSasPermissions(read=True, write=True, list=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )
    backend = AzureBackend(container=container, account_url=azurite.endpoint, sas_token=sas)
    assert backend.read_bytes("by-key.txt") == b"key"
    assert [f.path for f in backend.list_files("")] == ["by-key.txt"]
    assert "sig=" not in repr(backend) and sas not in str(backend.resolve("by-key.txt"))
    backend.close()


def test_resolve_returns_azure_details(guide_backend: AzureBackend) -> None:
    """API reference, ``resolve``: a `ResolutionPlan` with Azure-specific details."""
    plan = guide_backend.resolve("reports/q1.csv")
    assert isinstance(plan, ResolutionPlan)
    assert plan.backend == "azure"
    assert plan.native_path.endswith(f"/{plan.details['container']}/reports/q1.csv")
    assert plan.details["key"] == "reports/q1.csv"
    assert {"container", "account_name", "endpoint", "hns", "strategy"} <= set(plan.details)


def test_delete_folder_contract(guide_backend: AzureBackend) -> None:
    """API reference, ``delete_folder``: NotFound when missing (unless missing_ok),
    InvalidPath on a file, DirectoryNotEmpty unless recursive."""
    backend = guide_backend
    with pytest.raises(NotFound):
        backend.delete_folder("missing")
    backend.delete_folder("missing", missing_ok=True)
    backend.write("dir/sub/a.txt", b"a")
    backend.write("dir/b.txt", b"b")
    with pytest.raises(InvalidPath):
        backend.delete_folder("dir/b.txt")
    with pytest.raises(DirectoryNotEmpty):
        backend.delete_folder("dir")
    backend.delete_folder("dir", recursive=True)
    assert not backend.exists("dir") and not backend.exists("dir/sub/a.txt")


def test_get_file_info_contract(guide_backend: AzureBackend) -> None:
    """API reference, ``get_file_info``: NotFound when missing, InvalidPath on a folder
    (on HNS a real directory, ``hdi_isfolder=true``), and the "File Metadata" fields:
    etag without quotes and lower-case, digest ``ContentDigest("md5", hex)``."""
    backend = guide_backend
    with pytest.raises(NotFound):
        backend.get_file_info("missing.txt")
    result = backend.write("dir/report.csv", b"col1,col2\n1,2\n", metadata={"owner": "ops"})
    with pytest.raises(InvalidPath):
        backend.get_file_info("dir")
    info = backend.get_file_info("dir/report.csv")
    assert info.etag and '"' not in info.etag and info.etag == info.etag.lower()
    assert info.digest == ContentDigest("md5", hashlib.md5(b"col1,col2\n1,2\n").hexdigest())
    assert info.metadata == {"owner": "ops"}
    # "Write Results": etag, last_modified and digest from the upload response.
    assert (result.etag, result.digest) == (info.etag, info.digest)
    assert result.last_modified is not None
