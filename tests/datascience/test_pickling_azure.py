"""DS-001, DS-002, DS-004: pickling stores over Azure (Azurite), into a spawned process."""

from __future__ import annotations

import pickle
import uuid
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

from remote_store.config import RegistryConfig
from remote_store.errors import InvalidArgument
from remote_store.registry import Registry
from remote_store.store import Store
from tests.azure_support import ACCOUNT, ACCOUNT_KEY, Azurite
from tests.datascience import workers
from tests.datascience.test_pickling import assert_no_live_objects, globals_named

pytestmark = pytest.mark.azure


def test_ds_002_azure_credentials_from_the_environment_never_enter_the_pickle(
    azurite: Azurite, spawned: ProcessPoolExecutor
) -> None:
    container = azurite.new_container("ds")
    env = {"DS_AZ_CONN": azurite.connection_string}
    config = RegistryConfig.from_dict(
        {
            "backends": {
                "lake": {
                    "type": "azure",
                    "container": container,
                    "connection_string": "${DS_AZ_CONN}",
                }
            },
            "stores": {"raw": {"backend": "lake", "root_path": "raw"}},
        },
        env=env,
    )
    with Registry(config) as registry:
        registry.get_store("raw").write("2024/a.csv", b"a,b\n")
        payload = pickle.dumps(registry.get_store("raw").child("2024"))
    assert ACCOUNT_KEY.encode() not in payload
    assert azurite.connection_string.encode() not in payload
    assert_no_live_objects(payload)
    before, data = spawned.submit(workers.read_in_worker, payload, "a.csv", env).result()
    assert (before, data) == ("Store(backend='(not built yet)', root_path='raw/2024')", b"a,b\n")


def test_ds_004_direct_azure_store_carries_its_options_with_secrets_by_value(
    azurite: Azurite, spawned: ProcessPoolExecutor
) -> None:
    from remote_store.backends.azure import AzureBackend

    container = azurite.new_container("ds")
    with Store(AzureBackend(container, connection_string=azurite.connection_string)) as store:
        store.child("in").write("x.bin", b"payload")
        payload = pickle.dumps(store.child("in"))
    assert_no_live_objects(payload)
    assert "remote_store.secret.Secret" in globals_named(payload)  # the credential, wrapped
    _, data = spawned.submit(workers.read_in_worker, payload, "x.bin", {}).result()
    assert data == b"payload"


def test_ds_004_azure_credential_object_is_refused(azurite: Azurite) -> None:
    from azure.core.credentials import AzureNamedKeyCredential

    from remote_store.backends.azure import AzureBackend

    credential = AzureNamedKeyCredential(ACCOUNT, ACCOUNT_KEY)
    backend = AzureBackend("ccc", account_url=azurite.endpoint, credential=credential)
    with Store(backend) as store, pytest.raises(InvalidArgument, match="credential object"):
        pickle.dumps(store)


def test_ds_004_direct_store_on_the_hns_emulator_rebuilds_hierarchical(
    hns_emulator: Any, spawned: ProcessPoolExecutor
) -> None:
    from azure.storage.blob import BlobServiceClient

    from remote_store.backends.azure import AzureBackend

    container = f"ds-{uuid.uuid4().hex[:12]}"
    with BlobServiceClient.from_connection_string(hns_emulator.connection_string) as service:
        service.create_container(container)
    backend = AzureBackend(container, connection_string=hns_emulator.connection_string, hns=True)
    with Store(backend) as store:
        store.write("in/deep/x.bin", b"hns")
        payload = pickle.dumps(store.child("in"))
        assert backend._rebuild_options()["hns"] is True
    assert_no_live_objects(payload)
    _, data = spawned.submit(workers.read_in_worker, payload, "deep/x.bin", {}).result()
    assert data == b"hns"
