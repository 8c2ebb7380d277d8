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
            f"| {row['op']} | {requests} | {ms} | {row['ratio']:.2f} | "
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
            f"| {row['op']} | {row.get('impl', 'ours')} | {row['upload_MiB_s']} | "
            f"{row['download_MiB_s']} | {row['after_upload_MiB']} MiB | "
            f"{row['peak_rss_growth_MiB']} MiB | {row['bound_MiB']} MiB | {within} |"
        )
    return lines


def markdown(runs: list[dict[str, Any]]) -> list[str]:
    """The section: one block of tables per result file, then the notes."""
    lines = ["## S3 on MiniStack (`benchmarks/s3.py`)", ""]
    for run in runs:
        lines += [f"Run: `{run['command']}`"]
        if run.get("seconds"):
            lines[-1] += f" ({run['seconds']} s)"
        if run.get("versions"):
            lines += ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in run["versions"].items())]
        if run.get("small"):
            lines += ["", "### Small operations (1 KiB)", "", *_ops(run["small"])]
        if run.get("bulk"):
            lines += ["", "### Listing and folder delete", "", *_ops(run["bulk"])]
        if run.get("transfers"):
            env = run.get("transfer_env")
            heading = "### Streamed transfers, one process per point"
            if env:
                heading += " (environment: " + ", ".join(f"`{k}={v}`" for k, v in env.items()) + ")"
            lines += ["", heading, "", *_transfers(run["transfers"])]
        lines.append("")
    if NOTES.exists():
        lines += NOTES.read_text().strip().splitlines()
    return lines
