"""The plain-http guard checks the host the request will go to: a URL that two parsers
split differently is refused, for Azure's account_url, a connection string's endpoints and
the HTTP backend's base_url."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import urllib3

from remote_store.backends import AzureBackend, HttpBackend
from remote_store.errors import ConfigError

KEY = "a2V5a2V5a2V5a2V5"
AMBIGUOUS = [
    "http://evil.example\\@127.0.0.1:10000/devstoreaccount1",
    "http://evil.example%5C@127.0.0.1/devstoreaccount1",
    "http://user:pass@127.0.0.1:10000/devstoreaccount1",
    "http://127.0.0.1 @evil.example/devstoreaccount1",
    "http://127.0.0.1\t/devstoreaccount1",
]


def test_the_parsers_disagree_on_the_trick() -> None:
    """Why the guard must refuse: Python's parser reads loopback, the transport another host."""
    url = AMBIGUOUS[0]
    assert urlsplit(url).hostname == "127.0.0.1"
    assert urllib3.util.parse_url(url).host == "evil.example"


@pytest.mark.parametrize("url", AMBIGUOUS)
def test_ambiguous_hosts_are_refused_everywhere(url: str) -> None:
    with pytest.raises(ConfigError, match="not a plain host"):
        AzureBackend("cont", account_url=url, account_key=KEY)
    conn = f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={KEY};"
    with pytest.raises(ConfigError, match="not a plain host"):
        AzureBackend("cont", connection_string=conn + f"BlobEndpoint={url};")
    with pytest.raises(ConfigError):
        HttpBackend(url.replace("/devstoreaccount1", "/files"))


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:10000/devstoreaccount1", "http://localhost:8080/a", "http://[::1]:80/x"],
)
def test_plain_loopback_hosts_still_pass(url: str) -> None:
    AzureBackend("cont", account_url=url, account_key=KEY, hns=False).close()
