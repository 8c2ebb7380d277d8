"""The S3 section of docs/performance.md, rendered from ``benchmarks/s3.py``'s result file
(``benchmarks/results/s3.json``); the prose around the tables is ``s3_notes.md``."""

from __future__ import annotations

from typing import Any

from benchmarks.s3_others import ROOT

NOTES = ROOT / "benchmarks" / "s3_notes.md"
SIDES = ("ours", "boto3", "obstore", "s3fs")


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def _ops(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| operation | requests: ours / boto3 / obstore / s3fs | median ms: ours / boto3 / "
        "obstore / s3fs | ours ÷ boto3 | obstore ÷ boto3 | s3fs ÷ boto3 |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        requests = " / ".join(_cell(row["requests"].get(side)) for side in SIDES)
        ms = " / ".join(_cell(row["median_ms"].get(side)) for side in SIDES)
        lines.append(
            f"| {row['op']} (run {row['run']}) | {requests} | {ms} | {row['ratio']:.2f} | "
            f"{_cell(row.get('ratio_obstore'))} | {_cell(row.get('ratio_s3fs'))} |"
        )
    return lines


def _transfers(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| transfer | side | upload MiB/s | download MiB/s | RSS growth after upload | "
        "peak RSS growth | bound (16 MiB + 8 MiB x c) | within |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        within = "yes" if row["peak_rss_growth_MiB"] <= row["bound_MiB"] else "**no**"
        lines.append(
            f"| {row['op']} (run {row['run']}) | {row.get('impl', 'ours')} | "
            f"{row['upload_MiB_s']} | {row['download_MiB_s']} | {row['after_upload_MiB']} MiB | "
            f"{row['peak_rss_growth_MiB']} MiB | {row['bound_MiB']} MiB | {within} |"
        )
    return lines


def _merged(runs: list[dict[str, Any]], group: str) -> list[dict[str, Any]]:
    """The rows of *group* over all runs: a later run's row replaces an earlier one of the
    same operation (and side), marked with the run it came from."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for number, run in enumerate(runs, 1):
        for row in run.get(group, ()):
            rows[(row["op"], row.get("impl", ""))] = {**row, "run": number}
    return list(rows.values())


def markdown(runs: list[dict[str, Any]]) -> list[str]:
    """The section: the runs, their merged tables (a later run replaces an earlier one's
    rows of the same operation), then the notes."""
    lines = ["## S3 on MiniStack (`benchmarks/s3.py`)", ""]
    for number, run in enumerate(runs, 1):
        line = f"- run {number}: `{run['command']}`"
        if run.get("seconds"):
            line += f" ({run['seconds']} s)"
        if run.get("transfer_env"):
            line += ", transfer environment " + ", ".join(
                f"`{k}={v}`" for k, v in run["transfer_env"].items()
            )
        lines.append(line)
    versions = next((run["versions"] for run in reversed(runs) if run.get("versions")), None)
    if versions:
        lines += ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items())]
    for group, heading, render in (
        ("small", "Small operations (1 KiB)", _ops),
        ("bulk", "Listing and folder delete", _ops),
        ("transfers", "Streamed transfers, one process per point", _transfers),
    ):
        rows = _merged(runs, group)
        if rows:
            lines += ["", f"### {heading}", "", *render(rows)]
    lines.append("")
    if NOTES.exists():
        lines += NOTES.read_text().strip().splitlines()
    return lines
