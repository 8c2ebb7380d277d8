"""OBJ-009: a flat move with if_match decides the condition before the destination changes,
and a source rewritten between the copy and the delete keeps its new version."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from azure.storage.blob import BlobClient

from remote_store.errors import PreconditionFailed
from remote_store.store import Store
from tests.azure_support import Azurite, BackendFactory

pytestmark = pytest.mark.azure


def _rewrite_once_after(
    azurite: Azurite, container: str, when: Callable[[Any], bool]
) -> Callable[[Any], None]:
    """A response hook that, the first time *when* holds, rewrites ``src.txt`` from another
    client: the other writer the race is about."""
    done: list[bool] = []

    def hook(response: Any) -> None:
        if not done and when(response.http_request):
            done.append(True)
            other = BlobClient.from_connection_string(
                azurite.connection_string, container, "src.txt"
            )
            other.upload_blob(b"newer source", overwrite=True)

    return hook


def _store(make_backend: BackendFactory, hook: Callable[[Any], None]) -> Store:
    return Store(make_backend(client_options={"raw_response_hook": hook}))


def _is_copy(request: Any) -> bool:
    return "x-ms-copy-source" in request.headers


def _is_head(request: Any) -> bool:
    return bool(request.method == "HEAD" and request.url.split("?")[0].endswith("/src.txt"))


def test_a_source_rewritten_after_the_copy_keeps_its_new_version(
    azurite: Azurite, container: str, make_backend: BackendFactory
) -> None:
    store = _store(make_backend, _rewrite_once_after(azurite, container, _is_copy))
    etag = store.write("src.txt", b"moved version").etag
    store.write("dst.txt", b"old destination")
    store.move("src.txt", "dst.txt", overwrite=True, if_match=etag)
    assert store.read_bytes("dst.txt") == b"moved version"
    assert store.read_bytes("src.txt") == b"newer source"


def test_a_source_rewritten_before_the_copy_changes_nothing(
    azurite: Azurite, container: str, make_backend: BackendFactory
) -> None:
    store = _store(make_backend, lambda response: None)
    etag = store.write("src.txt", b"conditioned version").etag
    store.write("dst.txt", b"old destination")
    racing = _store(make_backend, _rewrite_once_after(azurite, container, _is_head))
    with pytest.raises(PreconditionFailed):
        racing.move("src.txt", "dst.txt", overwrite=True, if_match=etag)
    assert store.read_bytes("dst.txt") == b"old destination"
    assert store.read_bytes("src.txt") == b"newer source"
