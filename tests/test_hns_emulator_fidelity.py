"""Replay every real ADLS Gen2 recording against a fresh HNS emulator.

For each cassette in ``../shared/reference/azure-recordings`` (beside the
clone), all interactions are replayed in order against a new emulator with
authentication off (the recordings carry no Authorization header), and each
answer is compared with ``load.compare_key_fields``: status, x-ms-error-code
and the key headers. Recordings the emulator deliberately does not match are
listed in ``OUT_OF_SCOPE`` (and in tests/hns_emulator/README.md); a listed
recording that starts passing fails the test so the list cannot rot.
"""

from __future__ import annotations

import http.client
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.hns_emulator import HnsEmulator

RECORDINGS = Path(__file__).resolve().parents[1].parent / "shared/reference/azure-recordings"
ACCOUNT = "azreplay"  # the recorder's placeholder account name
# The "[azure_hns]" tests ran in a filesystem that already existed.
PERSISTENT_FS = "conformance-azure-replay"

# file name -> reason. Keep in sync with README.md "Out of scope".
_LOST_WRITES = (
    "incomplete recording: the recorder kept only some of the concurrent Put Blob "
    "requests, then recorded GETs of the blobs whose writes it lost; no faithful server "
    "can answer 206 for a blob that was never written"
)
OUT_OF_SCOPE: dict[str, str] = {
    "TestAsyncCoroutineSafe.test_concurrent_distinct_key_writes_all_land[azure_async].yaml": (
        _LOST_WRITES
    ),
    "TestThreadSafeConcurrency.test_concurrent_distinct_key_writes_all_land[azure].yaml": (
        _LOST_WRITES
    ),
    "TestThreadSafeConcurrency.test_concurrent_read_after_write_consistent[azure].yaml": (
        _LOST_WRITES
    ),
}


def _load_module() -> ModuleType:
    if not (RECORDINGS / "load.py").is_file():
        pytest.fail(
            f"recordings not found at {RECORDINGS}: check out the shared/ tree beside "
            "this clone (shared/reference/azure-recordings); the fidelity check must not skip"
        )
    spec = importlib.util.spec_from_file_location("azure_recordings_load", RECORDINGS / "load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _cassettes() -> list[str]:
    return sorted(p.name for p in RECORDINGS.glob("*.yaml")) or ["<no recordings found>"]


# Request headers that carry an ETag the recording got from the real service.
_ETAG_HEADERS = ("if-match", "if-none-match", "x-ms-source-if-match", "x-ms-source-if-none-match")


def _translate_etags(headers: dict[str, str], etags: dict[str, str]) -> dict[str, str]:
    """Swap recorded ETags in conditional headers for the ones the emulator issued.

    The emulator mints its own ETags, so an ``If-Match`` copied from a
    recording (e.g. the create ETag the SDK sends on flush) must be mapped to
    the emulator's ETag for the same response before it is replayed.
    """
    out = dict(headers)
    for name in _ETAG_HEADERS:
        if name in out:
            out[name] = ", ".join(etags.get(v.strip(), v.strip()) for v in out[name].split(","))
    return out


def _send(
    conn: http.client.HTTPConnection, method: str, url: str, headers: dict[str, str], body: Any
) -> tuple[int, dict[str, str]]:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    conn.request(method, target, body=body, headers=headers)
    resp = conn.getresponse()
    resp.read()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}


def replay(load: ModuleType, cassette: Path) -> list[str]:
    """Replay one cassette on a fresh emulator; return the mismatches found."""
    pairs = list(load.iter_interactions(cassette))
    problems: list[str] = []
    with HnsEmulator(ACCOUNT, auth=False) as emu:
        first = pairs[0] if pairs else None
        creates_fs = (
            first is not None
            and load.classify(first[0]) == "blob:CreateContainer"
            and first[1]["status"] == 201
        )
        if not creates_fs:
            emu.namespace.create_container(PERSISTENT_FS, {}, dfs=False)
        bases = {"blob": emu.blob_url, "dfs": emu.dfs_url}
        conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=30)
        etags: dict[str, str] = {}
        try:
            for req, expected in pairs:
                status, headers = _send(
                    conn,
                    req["method"],
                    load.emulator_url(req, bases),
                    _translate_etags(load.replay_headers(req), etags),
                    req["body"],
                )
                if "etag" in expected["headers"] and "etag" in headers:
                    etags[expected["headers"]["etag"]] = headers["etag"]
                for problem in load.compare_key_fields(expected, status, headers):
                    problems.append(
                        f"#{req['index']} {load.classify(req)} {req['path_qs']}: {problem}"
                    )
        finally:
            conn.close()
    return problems


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in _cassettes()])
def test_recording_replays(name: str) -> None:
    load = _load_module()
    cassette = RECORDINGS / name
    problems = replay(load, cassette)
    if name in OUT_OF_SCOPE:
        assert problems, f"{name} now passes: remove it from OUT_OF_SCOPE and README.md"
        return
    assert not problems, "\n".join(problems)


def test_out_of_scope_list_is_small_and_real() -> None:
    _load_module()
    names = set(_cassettes())
    assert len(OUT_OF_SCOPE) <= 10
    assert set(OUT_OF_SCOPE) <= names, set(OUT_OF_SCOPE) - names
    readme = (Path(__file__).parent / "hns_emulator" / "README.md").read_text()
    for name in OUT_OF_SCOPE:
        assert name in readme, f"{name} is not documented in tests/hns_emulator/README.md"
