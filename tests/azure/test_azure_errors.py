"""Error mapping (AZ-070..): real HttpResponseErrors from real HTTP responses, never mocks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from azure.core.exceptions import AzureError

from remote_store.backends.azure import AzureBackend
from remote_store.config import RetryPolicy
from remote_store.errors import (
    AlreadyExists,
    BackendUnavailable,
    ContainerNotFound,
    DirectoryNotEmpty,
    InvalidArgument,
    InvalidPath,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    RemoteStoreError,
    ResourceLocked,
)
from remote_store.store import Store
from tests.azure.loopback import Reply, serve

NO_RETRY = RetryPolicy(attempts=1, backoff_base=0, backoff_max=0, jitter=False)

CASES: list[tuple[int, str | None, type[RemoteStoreError]]] = [
    (404, "BlobNotFound", NotFound),
    (404, "ContainerNotFound", ContainerNotFound),
    (404, None, NotFound),
    (409, "BlobAlreadyExists", AlreadyExists),
    (409, "PathAlreadyExists", AlreadyExists),
    (409, "DirectoryNotEmpty", DirectoryNotEmpty),
    (409, "PathConflict", InvalidPath),
    (409, "InvalidSourceOrDestinationResourceType", InvalidPath),
    (409, "LeaseIdMissing", ResourceLocked),
    (409, "LeaseAlreadyPresent", ResourceLocked),
    (409, "SomethingNew", RemoteStoreError),
    (412, "ConditionNotMet", PreconditionFailed),
    (403, "AuthorizationFailure", PermissionDenied),
    (403, "AuthorizationPermissionMismatch", PermissionDenied),
    (403, "AuthenticationFailed", PermissionDenied),
    (401, None, PermissionDenied),
    (429, None, BackendUnavailable),
    (500, "InternalError", BackendUnavailable),
    (503, "ServerBusy", BackendUnavailable),
    (400, "InvalidHeaderValue", InvalidArgument),
    (400, "InvalidResourceName", InvalidPath),
]


def backend_for(endpoint_cs: str, **options: Any) -> AzureBackend:
    return AzureBackend("cont", connection_string=endpoint_cs, hns=False, retry=NO_RETRY, **options)


@pytest.mark.parametrize(("status", "code", "expected"), CASES)
def test_response_errors_map_by_code_then_status(
    status: int, code: str | None, expected: type[RemoteStoreError]
) -> None:
    """AZ-070, AZ-071: the class follows the error code first, the status second."""
    with serve(lambda method, path: Reply(status, code)) as server:
        backend = backend_for(server.connection_string)
        with pytest.raises(expected) as caught:
            backend.write("dir/file.txt", b"data", overwrite=True)
        error = caught.value
        assert type(error) is expected or expected is RemoteStoreError
        assert isinstance(error.__cause__, AzureError)
        assert error.path == "dir/file.txt"
        assert (code or str(status)) in str(error)
        assert "scripted" not in str(error)  # never the service's message text
        assert error.retryable is (expected is BackendUnavailable)


def test_permission_mismatch_names_the_role() -> None:
    """AZ-072"""
    reply = Reply(403, "AuthorizationPermissionMismatch")
    with serve(lambda m, p: reply) as server, pytest.raises(PermissionDenied, match="Storage Blob"):
        backend_for(server.connection_string).read_bytes("f")


def test_create_only_condition_failure_is_already_exists() -> None:
    """AZ-073: a 412 on a create-only request means the target exists."""
    with serve(lambda m, p: Reply(412, "ConditionNotMet")) as server, pytest.raises(AlreadyExists):
        backend_for(server.connection_string).write("f", b"x")


def test_message_text_is_ignored() -> None:
    """AZ-070: a 404 whose text says 'already exists' is still NotFound."""
    body = (
        b'<?xml version="1.0"?><Error><Code>BlobNotFound</Code>'
        b"<Message>The blob already exists</Message></Error>"
    )
    with serve(lambda m, p: Reply(404, "BlobNotFound", body=body)) as server:
        backend = backend_for(server.connection_string)
        with pytest.raises(NotFound):
            backend.write("f", b"x", overwrite=True)


def _blob_reply(data: bytes, cut_after: int | None = None) -> Reply:
    headers = (
        ("Content-Range", f"bytes 0-{len(data) - 1}/{len(data)}"),
        ("ETag", '"0x1"'),
        ("x-ms-blob-type", "BlockBlob"),
        ("Last-Modified", "Thu, 18 Jun 2026 19:52:36 GMT"),
    )
    return Reply(206, headers=headers, body=data, cut_after=cut_after)


def test_mid_stream_drop_is_backend_unavailable() -> None:
    """AZ-074: a body cut short surfaces as BackendUnavailable, never an azure error."""
    data = b"x" * 5000
    with serve(lambda m, p: _blob_reply(data, cut_after=100)) as server:
        backend = backend_for(server.connection_string)
        with pytest.raises(BackendUnavailable):
            backend.read_bytes("f")
        with pytest.raises(BackendUnavailable):
            Store(backend).read("f").read()


def test_mid_stream_error_after_first_chunk() -> None:
    """AZ-074: the second ranged GET fails: mapped while the caller reads."""
    data = b"y" * 4096
    calls = {"n": 0}

    def script(method: str, path: str) -> Reply:
        calls["n"] += 1
        if calls["n"] == 1:
            headers = (
                ("Content-Range", "bytes 0-1023/4096"),
                ("ETag", '"0x1"'),
                ("x-ms-blob-type", "BlockBlob"),
            )
            return Reply(206, headers=headers, body=data[:1024])
        return Reply(503, "ServerBusy")

    with serve(script) as server:
        backend = backend_for(server.connection_string, client_options={"max_chunk_get_size": 1024})
        stream = backend.read("f")
        assert stream.read(1024) == data[:1024]
        with pytest.raises(BackendUnavailable):
            stream.read()


def test_unreachable_service_is_backend_unavailable() -> None:
    """AZ-075: nothing listens: BackendUnavailable (retryable), from every public call."""
    with serve(lambda m, p: Reply(200)) as server:
        dead = server.connection_string
    backend = backend_for(dead, client_options={"connection_timeout": 1})
    store = Store(backend)
    calls: list[Callable[[], object]] = [
        lambda: store.write("f", b"x"),
        lambda: store.read_bytes("f"),
        lambda: store.read("f"),
        lambda: store.exists("f"),
        lambda: store.get_file_info("f"),
        lambda: list(store.list_files("", recursive=True)),
        lambda: store.delete("f"),
        lambda: store.delete_folder("d", recursive=True),
        lambda: store.copy("a", "b"),
        lambda: store.move("a", "b"),
        lambda: store.ping(),
    ]
    for call in calls:
        with pytest.raises(BackendUnavailable) as caught:
            call()
        assert caught.value.retryable


def test_hns_detection_denied_falls_back_once(caplog: pytest.LogCaptureFixture) -> None:
    """AZ-012: a 403 on GetAccountInfo selects flat and warns once, naming hns=."""
    with serve(lambda m, p: Reply(403, "AuthorizationFailure")) as server:
        backend = AzureBackend("cont", connection_string=server.connection_string, retry=NO_RETRY)
        with caplog.at_level("WARNING", logger="remote_store.azure"):
            assert backend.capabilities.supports("seekable_read")
            _ = backend.capabilities
        detections = [p for _, p in server.seen if "restype=account" in p]
        assert len(detections) == 1
        warnings = [r for r in caplog.records if "hns=" in r.getMessage()]
        assert len(warnings) == 1


def test_hns_detection_transient_is_not_cached() -> None:
    """AZ-013"""
    with serve(lambda m, p: Reply(503, "ServerBusy")) as server:
        backend = AzureBackend("cont", connection_string=server.connection_string, retry=NO_RETRY)
        for _ in range(2):
            with pytest.raises(BackendUnavailable):
                _ = backend.capabilities
        assert len([p for _, p in server.seen if "restype=account" in p]) == 2


def test_hns_true_selects_a_strategy() -> None:
    """AZ-014: until the hierarchical strategy exists, HNS accounts run flat (with a log)."""
    headers = (("x-ms-is-hns-enabled", "true"), ("x-ms-sku-name", "Standard_LRS"))
    with serve(lambda m, p: Reply(200, headers=headers)) as server:
        backend = AzureBackend("cont", connection_string=server.connection_string)
        assert backend.capabilities
        assert backend.resolve("x").details["hns"] is True
