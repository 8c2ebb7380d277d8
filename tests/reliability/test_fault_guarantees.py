"""REL-010..REL-013: what each fault leaves behind, on both strategies.

Every outcome is checked around the proxy, on the bytes really stored: the previous
version or the new one, whole (SHA-256), never a partial or empty blob."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable

import pytest

from remote_store.errors import BackendUnavailable, PreconditionFailed, RemoteStoreError
from remote_store.store import Store
from tests.fault_proxy import Fault, Match, RequestInfo

from .conftest import ONCE, QUICK, SMALL_TRANSFERS, Rig

OLD = b"old version\n" * 100
NEW = os.urandom(200 * 1024)  # 200 KiB: four 64 KiB blocks when staged


def _is_block(r: RequestInfo) -> bool:
    return r.params.get("comp") == "block"


def _is_commit(r: RequestInfo) -> bool:
    return r.method == "PUT" and not _is_block(r)


FAULTS: dict[str, Callable[[], Fault]] = {
    "503": lambda: Fault.status(503, times=2, match=Match(predicate=_is_commit)),
    "503-after-landing": lambda: Fault.status(503, forward=True, match=Match(predicate=_is_commit)),
    "429": lambda: Fault.status(429, retry_after=0, match=Match(predicate=_is_commit)),
    "reset": lambda: Fault.reset(match=Match(predicate=_is_commit)),
    "reset-mid-upload": lambda: Fault.reset_mid_upload(30_000, match=Match(method="PUT")),
    "drop-response": lambda: Fault.drop_response(match=Match(predicate=_is_commit)),
    "reset-block": lambda: Fault.reset(skip=1, match=Match(predicate=_is_block)),
    "drop-block": lambda: Fault.drop_response(skip=1, match=Match(predicate=_is_block)),
}


def _write(store: Store, how: str, overwrite: bool) -> None:
    if how == "write":
        store.write("f", NEW, overwrite=overwrite)
    elif how == "write_atomic":
        store.write_atomic("f", NEW, overwrite=overwrite)
    else:
        with store.open_atomic("f", overwrite=overwrite) as out:
            for start in range(0, len(NEW), 50_000):
                out.write(NEW[start : start + 50_000])


@pytest.mark.parametrize("how", ["write", "write_atomic", "open_atomic"])
@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("retries", ["retry", "once"])
def test_rel_010_interrupted_write_leaves_old_or_new(
    rig: Rig, how: str, fault: str, retries: str
) -> None:
    """REL-010: a write interrupted at any point leaves the previous content or the new,
    whole; with retries it lands, and retried blocks and commits are idempotent."""
    rig.put("f", OLD)
    store = rig.store(QUICK if retries == "retry" else ONCE, **SMALL_TRANSFERS)
    rig.proxy.add(FAULTS[fault]())
    try:
        _write(store, how, overwrite=True)
    except BackendUnavailable:
        assert retries == "once", rig.proxy.show()
        rig.verify(rig.blob("f"), OLD, NEW)
    else:
        rig.verify(rig.blob("f"), NEW)
    assert rig.keys() == ["f"]
    assert rig.proxy.stats().faults_total >= 1 or fault.endswith("block"), rig.proxy.show()


@pytest.mark.parametrize("how", ["write", "open_atomic"])
@pytest.mark.parametrize("fault", ["drop-response", "503-after-landing", "reset"])
def test_rel_011_create_only_under_retries(rig: Rig, how: str, fault: str) -> None:
    """REL-011: overwrite=False whose first commit landed but whose answer was lost or
    replaced by a 503 succeeds: the retry's conflict is recognised as our own blob."""
    store = rig.store(QUICK, **SMALL_TRANSFERS)
    rig.proxy.add(FAULTS[fault]())
    _write(store, how, overwrite=False)
    rig.verify(rig.blob("f"), NEW)
    assert store.get_file_info("f").digest is not None
    assert store.get_file_info("f").digest.value == hashlib.md5(NEW).hexdigest()  # type: ignore[union-attr]


# ---------------------------------------------------------------------- reads

BIG = os.urandom(3 * 1024 * 1024)  # a mid-body cut needs a body worth cutting


@pytest.mark.parametrize("kind", ["reset_mid_body", "truncate"])
@pytest.mark.parametrize("how", ["read_bytes", "read", "read_seekable", "read_to"])
def test_rel_012_cut_read_resumes_whole(rig: Rig, kind: str, how: str) -> None:
    """REL-012: a body cut mid-way is re-requested from the chunk's offset, pinned to the
    ETag; the bytes returned are the blob's, checksum-verified."""
    rig.put("big", BIG)
    store = rig.store(QUICK, max_chunk_get_size=1024 * 1024)
    cut = getattr(Fault, kind)(
        300_000, skip=1 if how != "read_bytes" else 0, match=Match(method="GET", path=r"/big$")
    )
    rig.proxy.add(cut)
    if how == "read_bytes":
        data = store.read_bytes("big")
    elif how == "read_to":
        sink = io.BytesIO()
        assert store.read_to("big", sink) == len(BIG)
        data = sink.getvalue()
    else:
        opener = store.read if how == "read" else store.read_seekable
        with opener("big") as stream:
            data = stream.read()
    assert rig.proxy.stats().faults[kind] == 1, rig.proxy.show()
    rig.verify(data, BIG)


def test_rel_012_replaced_between_cut_and_resume_raises(rig: Rig) -> None:
    """REL-012: the blob is replaced after a cut and before the re-request: the resumed
    range is refused (If-Match), PreconditionFailed, never bytes of two versions."""
    rig.put("big", BIG)
    store = rig.store(QUICK, max_chunk_get_size=1024 * 1024)
    replaced: list[RequestInfo] = []

    cut = Fault.reset_mid_body(300_000, skip=1, match=Match(method="GET", path=r"/big$"))

    def replace_once(request: RequestInfo) -> bool:
        if cut.claimed and not replaced:  # after the cut, before the resume is forwarded
            replaced.append(request)
            rig.put("big", os.urandom(len(BIG)))
        return False  # never claims a request

    rig.proxy.add(cut)
    rig.proxy.add(Fault.delay(0, match=Match(method="GET", path=r"/big$", predicate=replace_once)))
    got = b""
    with pytest.raises(PreconditionFailed), store.read("big") as stream:
        while chunk := stream.read(256 * 1024):
            got += chunk
    assert replaced, rig.proxy.show()
    assert BIG.startswith(got) and len(got) >= 1024 * 1024
    rig.verify(got, BIG[: len(got)])


def test_rel_012_cut_on_every_attempt_raises_never_short(rig: Rig) -> None:
    rig.put("big", BIG)
    store = rig.store(ONCE, max_chunk_get_size=1024 * 1024)
    rig.proxy.add(Fault.reset_mid_body(100_000, skip=1, times=None, match=Match(method="GET")))
    with pytest.raises(RemoteStoreError), store.read("big") as stream:
        stream.read()
    rig.tally.operations += 1


# ---------------------------------------------------------------------- move


def _is_delete(r: RequestInfo) -> bool:
    return r.method == "DELETE"


def _is_move_request(rig: Rig) -> Callable[[RequestInfo], bool]:
    if rig.kind == "hns":
        return lambda r: r.method == "PUT" and "x-ms-rename-source" in r.headers
    return lambda r: r.method == "PUT" and "x-ms-copy-source" in r.headers


@pytest.mark.parametrize("fault", ["reset", "drop", "503-after-landing"])
@pytest.mark.parametrize("step", ["copy-or-rename", "delete"])
@pytest.mark.parametrize("retries", ["retry", "once"])
def test_rel_013_interrupted_move_never_loses_the_file(
    rig: Rig, fault: str, step: str, retries: str
) -> None:
    """REL-013: a move interrupted at any step leaves the file at its source, its
    destination, or both (flat, between copy and delete), never neither; on HNS the rename
    is atomic: one or the other."""
    no_delete_step = rig.kind == "hns" and step == "delete"  # one rename: nothing to cut
    rig.put("src", NEW)
    store = rig.store(QUICK if retries == "retry" else ONCE)
    match = Match(predicate=_is_move_request(rig) if step != "delete" else _is_delete)
    plan = {
        "reset": Fault.reset(match=match),
        "drop": Fault.drop_response(match=match),
        "503-after-landing": Fault.status(503, forward=True, match=match),
    }[fault]
    rig.proxy.add(plan)
    try:
        store.move("src", "dst")
    except BackendUnavailable:
        assert retries == "once", rig.proxy.show()
    else:
        rig.verify(rig.blob("src"), None)
    src, dst = rig.blob("src"), rig.blob("dst")
    assert src is not None or dst is not None, "the file was lost"
    if src is not None:
        rig.verify(src, NEW)
    if dst is not None:
        rig.verify(dst, NEW)
    if rig.kind == "hns":
        assert (src is None) != (dst is None), "an HNS rename is atomic"
    if no_delete_step:
        assert dst is not None and not any(e.method == "DELETE" for e in rig.proxy.log())
    else:
        assert rig.proxy.stats().faults_total == 1, rig.proxy.show()
