"""Human-readable sizes and aligned columns."""

from __future__ import annotations

import pytest

from remote_store.cli.output import columns, human_size


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"), (5 * 2**30, "5.0 GiB")],
)
def test_human_size(size: int, text: str) -> None:
    assert human_size(size) == text


def test_columns_align_and_right_justify_numbers() -> None:
    assert columns([["1 B", "a"], ["10.0 KiB", "bb"]], right=(0,)) == [
        "     1 B  a",
        "10.0 KiB  bb",
    ]
