"""Key normalisation and confinement (sdd/specs/001-paths.md)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remote_store import InvalidPath, paths


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("a/b.txt", "a/b.txt"),
        ("/a//b/./c/", "a/b/c"),
        ("./x", "x"),
        ("", ""),
        ("/", ""),
        ("données/é.csv", "données/é.csv"),
    ],
)
def test_pth_001_normalises_separators_and_dots(raw: str, key: str) -> None:
    assert paths.normalize(raw) == key


@pytest.mark.parametrize(
    "raw",
    ["..", "a/../b", "../etc/passwd", "a/..", "a\\b", "a\x00b", "a\nb", "a\x7fb", "a\udc80"],
)
def test_pth_002_refuses_escapes_and_control_characters(raw: str) -> None:
    with pytest.raises(InvalidPath):
        paths.normalize(raw)


def test_pth_003_root_refused_where_a_file_is_needed() -> None:
    with pytest.raises(InvalidPath, match="root"):
        paths.normalize("/", allow_root=False)


@pytest.mark.parametrize("raw", [None, 3, b"a", ["a"]])
def test_pth_004_non_string_is_invalid_path(raw: object) -> None:
    with pytest.raises(InvalidPath, match="must be a str"):
        paths.normalize(raw)


def test_pth_005_length_limits() -> None:
    with pytest.raises(InvalidPath, match="1024"):
        paths.normalize("a/" * 600)
    with pytest.raises(InvalidPath, match="255 bytes"):
        paths.normalize("é" * 200)
    assert paths.normalize("x" * 255) == "x" * 255


def test_pth_006_join_and_relative_to_are_inverse() -> None:
    assert paths.join("root", "a/b") == "root/a/b"
    assert paths.relative_to("root", "root/a/b") == "a/b"
    assert paths.relative_to("root", "root") == ""
    with pytest.raises(InvalidPath, match="outside"):
        paths.relative_to("root", "rootless/a")
    assert not paths.is_within("root", "rootless")


def test_pth_007_error_message_is_bounded() -> None:
    with pytest.raises(InvalidPath) as caught:
        paths.normalize("../" + "x" * 5000)
    assert len(str(caught.value)) < 200


@given(st.text(max_size=300))
def test_pth_008_any_string_is_canonical_or_refused(raw: str) -> None:
    try:
        key = paths.normalize(raw)
    except InvalidPath:
        return
    segments = key.split("/") if key else []
    assert all(s not in ("", ".", "..") for s in segments)
    assert "\\" not in key and "\x00" not in key
    assert paths.normalize(key) == key
    assert paths.is_within("root", paths.join("root", key))
