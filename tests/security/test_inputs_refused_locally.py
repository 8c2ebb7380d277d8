"""Inputs the service would reject are refused before any request (AZ-036), with a
message that says what is wrong; and plain http:// to a remote host is refused."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from remote_store.backends.azure import AzureBackend
from remote_store.backends.azure.urls import check_connection_string, check_transport, is_loopback
from remote_store.errors import ConfigError, InvalidArgument, RemoteStoreError
from remote_store.store import Store
from tests.azure_support import ACCOUNT, ACCOUNT_KEY, Azurite, RequestLog
from tests.hns_emulator import HnsEmulator

BAD_METADATA: list[tuple[dict[str, Any], str]] = [
    ({"1st": "v"}, "C# identifiers"),
    ({"with-dash": "v"}, "C# identifiers"),
    ({"": "v"}, "1 to 256"),
    ({"k" * 300: "v"}, "1 to 256"),
    ({"Key": "a", "key": "b"}, "repeats"),
    ({"hdi_isfolder": "true"}, "reserved"),
    ({"k": "caf\u00e9"}, "printable ASCII"),
    ({"k": "line\nbreak"}, "printable ASCII"),
    ({"k": " padded "}, "leading or trailing"),
    ({"k": "x" * 9000}, "Azure allows"),
    ({"k": 1}, "must be str"),
]


@pytest.fixture(params=["azure", "azure-hns"])
def counted(request: pytest.FixtureRequest) -> Iterator[tuple[Store, RequestLog]]:
    log = RequestLog()
    options: dict[str, Any] = {"client_options": {"raw_response_hook": log}}
    if request.param == "azure":
        azurite: Azurite = request.getfixturevalue("azurite")
        backend = AzureBackend(
            "unused-container", connection_string=azurite.connection_string, hns=False, **options
        )
    else:
        emulator: HnsEmulator = request.getfixturevalue("hns_emulator")
        backend = AzureBackend(
            "unused-container", connection_string=emulator.connection_string, hns=True, **options
        )
    with backend:
        yield Store(backend), log


def _refusals(store: Store) -> Iterator[tuple[Callable[[], object], str]]:
    def enter_atomic(metadata: dict[str, Any]) -> object:
        return store.open_atomic("f.txt", metadata=metadata).__enter__()

    for metadata, says in BAD_METADATA:
        yield functools.partial(store.write, "f.txt", b"x", metadata=metadata), says
        yield functools.partial(store.write_atomic, "f.txt", b"x", metadata=metadata), says
        yield functools.partial(enter_atomic, metadata), says
    yield (lambda: store.write("f.txt", b"x", if_match="e")), "overwrite=True"
    yield (lambda: store.write("f.txt", b"x", overwrite=True, if_match="")), "etag"
    yield (lambda: store.delete("f.txt", if_match=" e ")), "etag"
    yield (lambda: store.write("f.txt", "text")), "bytes"  # type: ignore[arg-type]
    yield (lambda: store.write("f.txt", b"x", overwrite="yes")), "bool"  # type: ignore[arg-type]
    yield (lambda: store.list_files("", max_depth=0)), "max_depth"
    yield (lambda: store.read_text("f.txt", encoding="no-such-codec")), "codec"


def test_refused_before_any_request(counted: tuple[Store, RequestLog]) -> None:
    store, log = counted
    checked = 0
    for call, says in _refusals(store):
        with pytest.raises((InvalidArgument, RemoteStoreError)) as caught:
            call()
        if says != "codec":  # read_text decodes after reading: it may send the GET
            assert says.lower() in str(caught.value).lower(), caught.value
            assert len(log) == 0, log.show()
        checked += 1
    assert checked == 3 * len(BAD_METADATA) + 7


@pytest.mark.parametrize(
    "url",
    [
        "http://myaccount.blob.core.windows.net",
        "http://10.0.0.5:10000/devstoreaccount1",
        "http://[2001:db8::1]/acct",
        "http://localhost.evil.example/acct",
    ],
)
def test_plain_http_to_a_remote_host_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="http://") as caught:
        AzureBackend("c1c", account_url=url, account_name="myaccount", account_key=ACCOUNT_KEY)
    assert ACCOUNT_KEY not in str(caught.value)
    with pytest.raises(ConfigError):
        check_connection_string(f"DefaultEndpointsProtocol=http;BlobEndpoint={url};")
    check_transport(url, allow_insecure=True)  # an explicit opt-in is honoured


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:10000/devstoreaccount1",
        "http://127.1.2.3:9/devstoreaccount1",
        "http://localhost:10000/devstoreaccount1",
        "http://[::1]:10000/devstoreaccount1",
        f"https://{ACCOUNT}.blob.core.windows.net",
    ],
)
def test_loopback_and_tls_are_accepted(url: str) -> None:
    with AzureBackend("c1c", account_url=url, account_key=ACCOUNT_KEY, account_name=ACCOUNT):
        pass
    check_connection_string(f"DefaultEndpointsProtocol=http;BlobEndpoint={url};")


def test_connection_string_without_endpoint() -> None:
    check_connection_string("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k")
    with pytest.raises(ConfigError):
        check_connection_string(
            "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=k;"
            "EndpointSuffix=core.windows.net"
        )
    assert is_loopback("LOCALHOST") and is_loopback("127.0.0.1") and is_loopback("::1")
    assert not is_loopback("128.0.0.1") and not is_loopback(None)
