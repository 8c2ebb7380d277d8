"""Parsing addresses, Azure URLs and Azure credentials from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from remote_store.cli.addresses import AzureUrl, parse_address, parse_azure_url, split_glob
from remote_store.cli.session import azure_options
from remote_store.errors import ConfigError, InvalidPath

STORES = {"data", "raw.v2"}


@pytest.mark.parametrize(
    ("text", "kind", "store", "path"),
    [
        ("data:raw/q1.csv", "store", "data", "raw/q1.csv"),
        ("data:", "store", "data", ""),
        ("raw.v2:x", "store", "raw.v2", "x"),
        ("./data:x", "local", None, "./data:x"),
        ("/tmp/file.txt", "local", None, "/tmp/file.txt"),
        ("relative/dir/", "local", None, "relative/dir/"),
        ("file:///tmp/a%20b.txt", "local", None, "/tmp/a b.txt"),
        ("-", "stdio", None, ""),
    ],
)
def test_parse_address(text: str, kind: str, store: str | None, path: str) -> None:
    address = parse_address(text, STORES)
    assert (address.kind, address.store, address.path) == (kind, store, path)


def test_unknown_store_prefix_is_refused_unless_it_is_a_local_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidPath, match="no store named 'other'"):
        parse_address("other:thing", STORES)
    (tmp_path / "other:thing").write_text("")
    assert parse_address("other:thing", STORES).kind == "local"


def test_glob_and_folder_hints() -> None:
    assert parse_address("data:raw/*.csv", STORES).has_glob
    assert not parse_address("data:raw/q1.csv", STORES).has_glob
    assert parse_address("data:raw/", STORES).is_dir_hint
    assert parse_address("data:", STORES).is_dir_hint
    assert split_glob("raw/2026/*.csv") == ("raw/2026", "*.csv")
    assert split_glob("**/x") == ("", "**/x")
    assert split_glob("raw/q1.csv") == ("raw/q1.csv", "")


@pytest.mark.parametrize(
    ("url", "expected", "key"),
    [
        (
            "abfss://datasets@myacct.dfs.core.windows.net/raw/q1.csv",
            AzureUrl("datasets", "myacct", "core.windows.net", "abfss"),
            "raw/q1.csv",
        ),
        (
            "abfs://datasets@myacct.dfs.core.chinacloudapi.cn/",
            AzureUrl("datasets", "myacct", "core.chinacloudapi.cn", "abfs"),
            "",
        ),
        ("az://datasets/raw/a%20b.csv", AzureUrl("datasets"), "raw/a b.csv"),
        ("az://datasets", AzureUrl("datasets"), ""),
        (
            "https://myacct.blob.core.windows.net/datasets/raw/x",
            AzureUrl("datasets", "myacct", "core.windows.net", "abfss"),
            "raw/x",
        ),
        (
            "wasbs://c1@acct123.blob.core.windows.net/k",
            AzureUrl("c1", "acct123", "core.windows.net", "wasbs"),
            "k",
        ),
    ],
)
def test_parse_azure_url(url: str, expected: AzureUrl, key: str) -> None:
    assert parse_azure_url(url) == (expected, key)
    address = parse_address(url, STORES)
    assert (address.kind, address.azure, address.path) == ("azure", expected, key)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("abfss://datasets/raw", "expected abfss://CONTAINER@ACCOUNT"),
        ("abfss://c@example.com/x", "not an Azure storage host"),
        ("az:///raw", "names no container"),
        ("https://example.com/c/x", "expected https://ACCOUNT.blob"),
        # the backend reads these; an address must name a real storage account
        ("https://127.0.0.1:10000/devstoreaccount1/c/x", "expected https://ACCOUNT.blob"),
        ("https://myacct.blob.core.windows.net/", "expected https://ACCOUNT.blob"),
        ("abfss://c@myacct/x", "'myacct' is not an Azure storage host"),
        ("az://c/x?sig=secret", "no '?'"),
        ("gs://bucket/x", "unsupported URL scheme"),
        ("s3:///x", "names no bucket"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(InvalidPath, match=message.replace("?", r"\?")) as caught:
        parse_address(url, STORES)
    assert "secret" not in str(caught.value)


def test_display_prefix_round_trips() -> None:
    url, _ = parse_azure_url("abfss://datasets@myacct.dfs.core.windows.net/raw")
    assert url.prefix() == "abfss://datasets@myacct.dfs.core.windows.net/"
    assert AzureUrl("datasets").prefix() == "az://datasets/"


def test_azure_options_from_environment() -> None:
    named = AzureUrl("datasets", "myacct")
    bare = AzureUrl("datasets")
    assert azure_options(named, {}) == {"container": "datasets", "account_name": "myacct"}
    assert azure_options(bare, {"AZURE_STORAGE_ACCOUNT_NAME": "envacct"})["account_name"] == (
        "envacct"
    )
    keyed = azure_options(named, {"AZURE_STORAGE_KEY": "k3y", "AZURE_STORAGE_SAS_TOKEN": "s"})
    assert keyed["account_key"] == "k3y" and "sas_token" not in keyed
    assert azure_options(named, {"AZURE_STORAGE_SAS_TOKEN": "s"})["sas_token"] == "s"
    conn = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=abc"
    assert azure_options(bare, {"AZURE_STORAGE_CONNECTION_STRING": conn}) == {
        "container": "datasets",
        "connection_string": conn,
    }
    sovereign = AzureUrl("c1", "acct123", "core.chinacloudapi.cn", "abfss")
    assert azure_options(sovereign, {})["account_url"] == (
        "https://acct123.blob.core.chinacloudapi.cn"
    )


def test_azure_options_refuse_what_cannot_work() -> None:
    with pytest.raises(ConfigError, match="AZURE_STORAGE_ACCOUNT_NAME"):
        azure_options(AzureUrl("datasets"), {})
    conn = "AccountName=other;AccountKey=abc"
    with pytest.raises(ConfigError, match="for account 'other'") as caught:
        azure_options(AzureUrl("d1", "myacct"), {"AZURE_STORAGE_CONNECTION_STRING": conn})
    assert "abc" not in str(caught.value)
