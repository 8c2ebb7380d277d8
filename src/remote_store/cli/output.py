"""Rendering: human-readable sizes and times, aligned columns, JSON for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from remote_store.models import FileInfo, FolderInfo

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_size(size: int | float) -> str:
    """``1536`` -> ``"1.5 KiB"``; exact below 1 KiB."""
    value = float(size)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def human_time(moment: datetime | None) -> str:
    """Local time to the minute, the way ``ls -l`` shows it; ``-`` when unknown."""
    return "-" if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M")


def columns(rows: Iterable[Sequence[str]], right: Sequence[int] = ()) -> list[str]:
    """Rows aligned in columns; the indexes in *right* are right-aligned (numbers)."""
    table = [list(row) for row in rows]
    if not table:
        return []
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = []
    for row in table:
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def file_record(info: FileInfo, address: str) -> dict[str, Any]:
    """A FileInfo as plain JSON data; *address* is the form the user can pass back in."""
    return {
        "type": "file",
        "path": address,
        "size": info.size,
        "modified": None if info.modified is None else info.modified.isoformat(),
        "etag": info.etag,
        "digest": None if info.digest is None else f"{info.digest.algorithm}:{info.digest.value}",
        "content_type": info.content_type,
        "metadata": None if info.metadata is None else dict(info.metadata),
    }


def folder_record(info: FolderInfo | None, address: str) -> dict[str, Any]:
    """A folder as plain JSON data; totals when *info* is given."""
    record: dict[str, Any] = {"type": "folder", "path": address}
    if info is not None:
        record["file_count"] = info.file_count
        record["total_size"] = info.total_size
        record["modified"] = None if info.modified is None else info.modified.isoformat()
    return record


def emit_json(data: Any) -> None:
    """One JSON document on stdout."""
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def echo(line: str = "") -> None:
    sys.stdout.write(line + "\n")


def note(line: str) -> None:
    """A message for the person at the terminal, never mixed into stdout."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
