"""Glob translation (sdd/specs/003-backend-contract.md, glob section)."""

from __future__ import annotations

import pytest

from remote_store import globbing


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("*.csv", ["a.csv"], ["d/a.csv", "a.csvx"]),
        ("d/*.csv", ["d/a.csv"], ["d/e/a.csv", "a.csv"]),
        ("**/*.csv", ["a.csv", "d/a.csv", "d/e/f/a.csv"], ["a.txt"]),
        ("d/**", ["d/a", "d/e/f"], ["e/a"]),
        ("d/?.txt", ["d/a.txt"], ["d/ab.txt", "d/.txt"]),
        ("d/[ab]*.txt", ["d/a1.txt", "d/b.txt"], ["d/c.txt"]),
        ("d/[!ab].txt", ["d/c.txt"], ["d/a.txt"]),
        ("a+b(1).txt", ["a+b(1).txt"], ["aab(1).txt"]),
    ],
)
def test_glob_patterns(pattern: str, matches: list[str], misses: list[str]) -> None:
    compiled = globbing.compile_pattern(pattern)
    assert all(compiled.match(key) for key in matches)
    assert not any(compiled.match(key) for key in misses)


@pytest.mark.parametrize(
    ("pattern", "prefix", "recursive"),
    [
        ("prefix/**/*.csv", "prefix", True),
        ("a/b/*.csv", "a/b", False),
        ("*.csv", "", False),
        ("a/*/c.txt", "a", True),
    ],
)
def test_glob_lists_only_below_literal_prefix(pattern: str, prefix: str, recursive: bool) -> None:
    assert globbing.literal_prefix(pattern) == prefix
    assert globbing.needs_recursion(pattern, prefix) is recursive


def test_escape_makes_root_literal() -> None:
    compiled = globbing.compile_pattern(globbing.escape("r[1]*") + "/*.txt")
    assert compiled.match("r[1]*/a.txt")
    assert not compiled.match("r1x/a.txt")
