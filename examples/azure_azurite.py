"""The Azure backend against Azurite, the Azure Storage emulator (or a real account).

    docker compose up -d azurite          # or: bash scripts/install-azurite.sh and run it
    export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;\
AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq\
/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
    python examples/azure_azurite.py [CONTAINER]

Creates CONTAINER (default ``remote-store-example``) if it is missing, works in a folder
``azure-example`` inside it, and removes that folder at the end. Needs
``pip install "remote-store[azure]"``.
"""

from __future__ import annotations

import io
import os
import sys

from azure.storage.blob import ContainerClient

from remote_store import AlreadyExists, Capability, Store
from remote_store.backends import AzureBackend


def main(container: str) -> int:
    connection_string = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
    if not connection_string:
        print("set AZURE_STORAGE_CONNECTION_STRING (see this file's docstring)", file=sys.stderr)
        return 2
    # Azurite has no hierarchical namespace; hns=False skips asking it.
    backend = AzureBackend(container=container, connection_string=connection_string, hns=False)
    with Store(backend) as root:
        client = root.unwrap(ContainerClient)  # the SDK's own client, for what we do not wrap
        if not client.exists():
            client.create_container()
        root.delete_folder("azure-example", recursive=True, missing_ok=True)  # an old run's
        run(root.child("azure-example"))
        root.delete_folder("azure-example", recursive=True, missing_ok=True)
    return 0


def run(store: Store) -> None:
    result = store.write(
        "raw/events.jsonl",
        b'{"event": "start"}\n' * 1000,
        overwrite=True,
        metadata={"owner": "etl"},
    )
    print(f"wrote   {result.path}: {result.size} bytes, etag {result.etag}, {result.digest}")
    try:
        store.write("raw/events.jsonl", b"again")  # overwrite=False: one conditional request
    except AlreadyExists:
        print("refused raw/events.jsonl: exists")

    store.write("raw/big.bin", io.BytesIO(os.urandom(3 * 1024 * 1024)), overwrite=True)
    with store.read("raw/big.bin") as stream:  # ranged GETs on demand, one chunk in memory
        first = stream.read(1024)
    print(f"stream  raw/big.bin: first {len(first)} bytes read lazily")

    info = store.get_file_info("raw/events.jsonl")
    print(f"info    size {info.size}, metadata {dict(info.metadata or {})}")
    print(f"glob    {sorted(i.path for i in store.glob('raw/*.jsonl'))}")
    print(f"native  {store.native_path('raw/events.jsonl')}")
    print(f"resolve {dict(store.resolve('raw/events.jsonl').details)}")  # never credentials

    # On a flat account move is copy + delete: not atomic, and the store says so.
    print(f"atomic move? {store.supports(Capability.ATOMIC_MOVE)}")
    store.move("raw/events.jsonl", "archive/events.jsonl", overwrite=True)
    print(f"moved   -> {sorted(i.path for i in store.list_files('', recursive=True))}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "remote-store-example"))
