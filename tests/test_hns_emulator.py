"""Direct tests of the HNS emulator through the real azure SDK clients.

These cover what the recordings do not (see the recordings README section 8):
conditional writes, rename conditions, DirectoryNotEmpty, paging of List
Paths / List Blobs / recursive delete, SharedKey rejection, ranges, block
list commits, flush errors and concurrency.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.storage.blob import BlobBlock, BlobServiceClient, ContainerClient, ContentSettings
from azure.storage.filedatalake import DataLakeServiceClient, FileSystemClient

from tests.hns_emulator import HnsEmulator


@pytest.fixture
def emu(hns_emulator: HnsEmulator) -> Iterator[HnsEmulator]:
    hns_emulator.reset()
    yield hns_emulator
    hns_emulator.reset()


@pytest.fixture
def container(emu: HnsEmulator) -> ContainerClient:
    svc = BlobServiceClient(emu.blob_url, credential=emu.credential)
    return svc.create_container("fs")


@pytest.fixture
def fs(emu: HnsEmulator, container: ContainerClient) -> FileSystemClient:
    svc = DataLakeServiceClient(emu.dfs_url, credential=emu.credential)
    return svc.get_file_system_client("fs")


def _error_code(exc: HttpResponseError) -> str | None:
    code: Any = getattr(exc, "error_code", None)
    return None if code is None else str(getattr(code, "value", code))


def test_account_info_reports_hns(emu: HnsEmulator, container: ContainerClient) -> None:
    svc = BlobServiceClient(emu.blob_url, credential=emu.credential)
    for info in (svc.get_account_information(), container.get_account_information()):
        assert str(info["is_hns_enabled"]) == "True"  # a real bool, typed loosely by the SDK
        assert info["account_kind"] == "StorageV2"
        assert info["sku_name"] == "Standard_LRS"


def test_connection_string_serves_both_sdks(emu: HnsEmulator) -> None:
    BlobServiceClient.from_connection_string(emu.connection_string).create_container("cs")
    dl = DataLakeServiceClient.from_connection_string(emu.connection_string)
    dl.get_file_system_client("cs").get_file_client("d/f.txt").upload_data(b"x")
    paths = dl.get_file_system_client("cs").get_paths(recursive=False)
    assert [p.name for p in paths] == ["d"]


def test_bad_shared_key_is_rejected(emu: HnsEmulator, container: ContainerClient) -> None:
    wrong = base64.b64encode(b"not the key").decode()
    svc = BlobServiceClient(
        emu.blob_url, credential={"account_name": emu.account_name, "account_key": wrong}
    )
    with pytest.raises(ClientAuthenticationError) as info:
        svc.get_container_client("fs").get_blob_client("a").upload_blob(b"x")
    assert _error_code(info.value) == "AuthenticationFailed"
    assert emu.requests[-1].status == 403
    assert "a" not in emu.namespace.containers["fs"].nodes


def test_put_blob_conditions(container: ContainerClient) -> None:
    blob = container.get_blob_client("d/a.txt")
    blob.upload_blob(b"one")
    with pytest.raises(ResourceExistsError) as info:
        blob.upload_blob(b"two", overwrite=False)
    assert _error_code(info.value) == "BlobAlreadyExists"
    etag = blob.get_blob_properties().etag
    with pytest.raises(ResourceModifiedError):
        blob.upload_blob(
            b"three",
            overwrite=True,
            etag='"0x8D0000000000000"',
            match_condition=MatchConditions.IfNotModified,
        )
    blob.upload_blob(
        b"four", overwrite=True, etag=etag, match_condition=MatchConditions.IfNotModified
    )
    assert blob.download_blob().readall() == b"four"


def test_put_blob_md5_checked_and_stored(container: ContainerClient) -> None:
    blob = container.get_blob_client("m.txt")
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(HttpResponseError) as info:
        blob.upload_blob(b"data", headers={"Content-MD5": wrong})
    assert _error_code(info.value) == "Md5Mismatch"
    blob.upload_blob(b"data", validate_content=True)
    stored = blob.get_blob_properties().content_settings.content_md5
    assert bytes(stored or b"") == hashlib.md5(b"data").digest()


def test_block_list_commit_with_if_none_match(container: ContainerClient) -> None:
    blob = container.get_blob_client("big/b.bin")
    blob.stage_block("AAAA", b"hello ")
    blob.stage_block("BBBB", b"world")
    md5 = hashlib.md5(b"hello world").digest()
    blob.commit_block_list(
        [BlobBlock("AAAA"), BlobBlock("BBBB")],
        metadata={"k": "v"},
        content_settings=ContentSettings(content_md5=bytearray(md5)),
        match_condition=MatchConditions.IfMissing,
    )
    props = blob.get_blob_properties()
    assert blob.download_blob().readall() == b"hello world"
    assert props.metadata == {"k": "v"}
    assert bytes(props.content_settings.content_md5 or b"") == md5
    blob.stage_block("CCCC", b"!")
    with pytest.raises(ResourceExistsError):
        blob.commit_block_list([BlobBlock("CCCC")], match_condition=MatchConditions.IfMissing)
    with pytest.raises(HttpResponseError) as info:
        blob.commit_block_list([BlobBlock("ZZZZ")])
    assert _error_code(info.value) == "InvalidBlockList"


def test_range_reads_and_conditional_get(container: ContainerClient) -> None:
    blob = container.get_blob_client("r.bin")
    blob.upload_blob(b"0123456789")
    assert blob.download_blob(offset=2, length=3).readall() == b"234"
    assert blob.download_blob(offset=8).readall() == b"89"
    with pytest.raises(HttpResponseError) as info:
        blob.download_blob(offset=10, length=2)
    assert info.value.status_code == 416
    etag = blob.get_blob_properties().etag
    with pytest.raises(HttpResponseError) as info2:  # the SDK maps 304 on download itself
        blob.download_blob(etag=etag, match_condition=MatchConditions.IfModified)
    assert info2.value.status_code == 304
    with pytest.raises(HttpResponseError) as info3:
        blob.get_blob_properties(etag=etag, match_condition=MatchConditions.IfModified)
    assert info3.value.status_code == 304
    with pytest.raises(ResourceModifiedError):
        blob.download_blob(
            etag='"0x8D0000000000000"', match_condition=MatchConditions.IfNotModified
        )


def test_directory_reads_as_folder_blob(container: ContainerClient, fs: FileSystemClient) -> None:
    fs.get_directory_client("dir/sub").create_directory()
    props = container.get_blob_client("dir/sub").get_blob_properties()
    assert props.metadata == {"hdi_isfolder": "true"}
    assert props.size == 0
    assert fs.get_directory_client("dir").get_directory_properties().metadata == {
        "hdi_isfolder": "true"
    }


def test_set_metadata_and_copy(container: ContainerClient) -> None:
    src = container.get_blob_client("src.txt")
    src.upload_blob(b"abc", metadata={"a": "1"})
    src.set_blob_metadata({"b": "2"})
    assert src.get_blob_properties().metadata == {"b": "2"}
    dst = container.get_blob_client("dst/copy.txt")
    dst.upload_blob(b"old")
    with pytest.raises(ResourceExistsError):
        dst.start_copy_from_url(src.url, match_condition=MatchConditions.IfMissing)
    copied = dst.start_copy_from_url(src.url)
    assert copied["copy_status"] == "success"
    assert dst.download_blob().readall() == b"abc"
    assert dst.get_blob_properties().metadata == {"b": "2"}


def test_list_blobs_paging_and_hns_directories(
    emu: HnsEmulator, container: ContainerClient
) -> None:
    for name in ("a/1", "a/2", "b", "c/d/e"):
        container.get_blob_client(name).upload_blob(b"x")
    emu.set_page_sizes(list_blobs=2)
    emu.clear_requests()
    flat = list(container.list_blobs(include=["metadata"]))
    assert [b.name for b in flat] == ["a", "a/1", "a/2", "b", "c", "c/d", "c/d/e"]
    assert {b.name for b in flat if (b.metadata or {}).get("hdi_isfolder") == "true"} == {
        "a",
        "c",
        "c/d",
    }
    assert len(emu.requests) == 4
    top = [b.name for b in container.walk_blobs()]
    assert sorted(top) == ["a", "a/", "b", "c", "c/"]


def test_dfs_create_conditions(fs: FileSystemClient) -> None:
    f = fs.get_file_client("x/f.txt")
    f.upload_data(b"one")
    with pytest.raises(ResourceExistsError) as info:
        f.upload_data(b"two", overwrite=False)
    assert _error_code(info.value) == "PathAlreadyExists"
    with pytest.raises(HttpResponseError) as info2:
        fs.get_file_client("x").create_file()
    assert _error_code(info2.value) == "PathConflict"
    with pytest.raises(HttpResponseError) as info3:
        fs.get_directory_client("x/f.txt").create_directory()
    assert _error_code(info3.value) == "PathConflict"


def test_append_flush_positions(fs: FileSystemClient) -> None:
    f = fs.create_file("p.bin")
    f.append_data(b"world", offset=5, length=5)
    f.append_data(b"hello", offset=0, length=5)
    with pytest.raises(HttpResponseError) as info:
        f.flush_data(7)
    assert _error_code(info.value) == "InvalidFlushPosition"
    f.flush_data(10)
    assert f.download_file().readall() == b"helloworld"
    assert f.get_file_properties().content_settings.content_md5 is None


def test_rename_conditions_and_errors(fs: FileSystemClient) -> None:
    fs.get_file_client("a.txt").upload_data(b"a")
    fs.get_file_client("b.txt").upload_data(b"b")
    etag = fs.get_file_client("a.txt").get_file_properties().etag
    with pytest.raises(ResourceExistsError) as info:
        fs.get_file_client("a.txt").rename_file(
            "fs/b.txt", match_condition=MatchConditions.IfMissing
        )
    assert _error_code(info.value) == "PathAlreadyExists"
    assert fs.get_file_client("a.txt").download_file().readall() == b"a"
    with pytest.raises(ResourceNotFoundError) as info2:
        fs.get_file_client("missing.txt").rename_file("fs/c.txt")
    assert _error_code(info2.value) == "SourcePathNotFound"
    with pytest.raises(ResourceNotFoundError) as info3:
        fs.get_file_client("a.txt").rename_file("fs/no/such/dir/a.txt")
    assert _error_code(info3.value) == "RenameDestinationParentPathNotFound"
    moved = fs.get_file_client("a.txt").rename_file(
        "fs/c.txt", match_condition=MatchConditions.IfMissing
    )
    assert moved.get_file_properties().etag == etag  # rename keeps the ETag


def test_rename_directory_moves_subtree(fs: FileSystemClient) -> None:
    fs.get_file_client("src/one/f1").upload_data(b"1")
    fs.get_file_client("src/f2").upload_data(b"2")
    fs.create_directory("dst")
    fs.get_directory_client("src").rename_directory("fs/dst/moved")
    names = [p.name for p in fs.get_paths(recursive=True)]
    assert names == ["dst", "dst/moved", "dst/moved/f2", "dst/moved/one", "dst/moved/one/f1"]


def test_delete_non_recursive_non_empty(fs: FileSystemClient) -> None:
    fs.get_file_client("d/f").upload_data(b"x")
    with pytest.raises(HttpResponseError) as info:
        fs.get_file_client("d").delete_file()  # no recursive parameter
    assert _error_code(info.value) == "DirectoryNotEmpty"
    fs.get_file_client("d/f").delete_file()
    fs.get_file_client("d").delete_file()  # an empty directory goes without recursive
    assert list(fs.get_paths()) == []


def test_list_paths_pagination(emu: HnsEmulator, fs: FileSystemClient) -> None:
    for i in range(7):
        fs.get_file_client(f"t/f{i}").upload_data(b"x")
    emu.set_page_sizes(list_paths=2)
    emu.clear_requests()
    names = [p.name for p in fs.get_paths(path="t")]
    assert names == [f"t/f{i}" for i in range(7)]
    listed = [r for r in emu.requests if r.query.get("resource") == "filesystem"]
    assert len(listed) == 4
    assert "continuation" in listed[-1].query


def test_recursive_delete_with_continuation(emu: HnsEmulator, fs: FileSystemClient) -> None:
    for i in range(10):
        fs.get_file_client(f"tree/s{i % 2}/f{i}").upload_data(b"x")
    emu.set_page_sizes(delete=4)
    emu.clear_requests()
    directory = fs.get_directory_client("tree")
    directory.delete_directory()  # the SDK follows x-ms-continuation itself
    deletes = [r for r in emu.requests if r.method == "DELETE"]
    # 12 descendants, 4 per call: 4 + 4 + (last 4 and the directory itself).
    assert len(deletes) == 3
    assert [("continuation" in r.query) for r in deletes] == [False, True, True]
    assert not directory.exists()
    emu.set_page_sizes()
    emu.clear_requests()
    fs.get_file_client("tree2/a/b").upload_data(b"x")
    fs.get_directory_client("tree2").delete_directory()
    assert [r.method for r in emu.requests].count("DELETE") == 1


def test_dfs_head_and_raw_range(emu: HnsEmulator, fs: FileSystemClient) -> None:
    fs.get_file_client("h.txt").upload_data(b"abcdef", overwrite=True, metadata={"k": "v"})
    emu.set_auth(False)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
        conn.request(
            "HEAD", f"/{emu.account_name}/fs/h.txt", headers={"Accept": "application/json"}
        )
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200
        assert resp.getheader("x-ms-resource-type") == "file"
        assert resp.getheader("x-ms-properties") == "k=dg=="
        conn.request("GET", f"/{emu.account_name}/fs/h.txt", headers={"Range": "bytes=1-2"})
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (206, b"bc")
        conn.request("HEAD", f"/{emu.account_name}/fs/nope", headers={"Accept": "application/json"})
        resp = conn.getresponse()
        resp.read()
        assert (resp.status, resp.getheader("x-ms-error-code")) == (404, "PathNotFound")
        conn.close()
    finally:
        emu.set_auth(True)


def test_rename_race_has_one_winner(fs: FileSystemClient) -> None:
    for i in range(8):
        fs.get_file_client(f"race/src{i}").upload_data(str(i).encode())
    results: list[bool] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        try:
            fs.get_file_client(f"race/src{i}").rename_file(
                "fs/race/winner", match_condition=MatchConditions.IfMissing
            )
            ok = True
        except ResourceExistsError:
            ok = False
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
