"""Results JSON -> docs/performance.md (tables, targets) and docs/performance/*.png (charts).

The page is generated: edit ``benchmarks/notes.md`` (the analysis, inserted verbatim) or
this module, never the page itself.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import sftp_page
from benchmarks.common import MiB, median, p90
from remote_store.backends.azure.strategy import DEFAULT_MAX_CONCURRENCY

NOTES = Path(__file__).with_name("notes.md")
IMPL_ORDER = ["ours", "sdk", "sdk+md5", "sdk-defaults", "adlfs"]
SMALL_OPS = ["write", "write overwrite=False", "read", "exists", "get_file_info"]


def _samples(slot: dict[str, Any], field: str) -> list[float]:
    return [float(s[field]) for s in slot.get("samples", []) if field in s]


def _ratios(mine: dict[str, Any], theirs: dict[str, Any]) -> list[float]:
    """Per repetition: the time in slot *mine* / the time in slot *theirs*."""
    pairs = zip(_samples(mine, "seconds"), _samples(theirs, "seconds"), strict=False)
    return [a / b for a, b in pairs if b > 0]


def _paired_ratio(op: dict[str, Any], name: str, baseline: str = "sdk") -> float:
    """Median over repetitions of (impl time / *baseline* time in the same repetition)."""
    return median(_ratios(op["impls"].get(name, {}), op["impls"].get(baseline, {})))


def _bytes(slot: dict[str, Any]) -> float:
    return median([s["sent"] + s["received"] for s in slot.get("samples", [])])


def _fmt_bytes(value: float) -> str:
    if math.isnan(value):
        return "-"
    if value >= MiB:
        return f"{value / MiB:,.1f} MiB"
    if value >= 1024:
        return f"{value / 1024:,.1f} KiB"
    return f"{value:,.0f} B"


def _ms(value: float) -> str:
    return (
        "-" if math.isnan(value) else (f"{value * 1000:,.1f}" if value < 10 else f"{value:,.1f} s")
    )


def _ordered(op: dict[str, Any]) -> list[str]:
    names = list(op["impls"])
    return sorted(names, key=lambda n: IMPL_ORDER.index(n) if n in IMPL_ORDER else 9)


def table(ops: list[dict[str, Any]], transfer: bool = False) -> list[str]:
    head = "| operation | impl | median ms | p90 ms | ratio to sdk | requests | bytes moved |"
    if transfer:
        head += " MiB/s | peak RSS growth |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for op in ops:
        for name in _ordered(op):
            slot = op["impls"][name]
            if slot.get("error"):
                row = f"| {op['op']} | {name} | error: {slot['error'][:90]} |"
                lines.append(row + " |" * (head.count("|") - 4))
                continue
            seconds = _samples(slot, "seconds")
            requests = median(_samples(slot, "requests"))
            ratio = _paired_ratio(op, name) if name != "sdk" else 1.0
            row = (
                f"| {op['op']} | {name} | {_ms(median(seconds))} | {_ms(p90(seconds))} | "
                f"{_ratio(ratio)} | {requests:,.0f} | {_fmt_bytes(_bytes(slot))} |"
            )
            if transfer:
                size = op["params"]["bytes"]
                rss = median(_samples(slot, "rss_growth"))
                row += f" {size / MiB / median(seconds):,.1f} | {_fmt_bytes(rss)} |"
            lines.append(row)
    return lines


def _find(ops: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    return [op for op in ops if op["op"].startswith(prefix)]


def _stat(op: dict[str, Any], name: str, field: str) -> float:
    return median(_samples(op["impls"].get(name, {}), field))


def targets(ops: list[dict[str, Any]]) -> list[str]:
    """Each performance target, evaluated on one emulator's results."""
    rows = ["| target | holds | measured |", "|---|---|---|"]
    small = [op for op in ops if op["group"] == "small"]
    extra = [
        f"{op['op']} {_stat(op, 'ours', 'requests'):.0f} vs {_stat(op, 'sdk', 'requests'):.0f}"
        for op in small
        if _stat(op, "ours", "requests") != _stat(op, "sdk", "requests")
    ]
    rows.append(
        f"| small ops: requests = raw SDK minimum | {'yes' if not extra else 'no'} | "
        f"{'; '.join(extra) or 'all equal (1 each)'} |"
    )
    listing = [op for op in ops if op["group"] == "listing"]
    pages = [
        f"{op['op']}: {_stat(op, 'ours', 'requests'):.0f} (sdk {_stat(op, 'sdk', 'requests'):.0f})"
        for op in listing
    ]
    ok = all(_stat(op, "ours", "requests") <= _stat(op, "sdk", "requests") for op in listing)
    rows.append(f"| listing: pages only | {'yes' if ok else 'no'} | {'; '.join(pages)} |")
    ratios = [(op["op"], _paired_ratio(op, "ours")) for op in small]
    worst = max(ratios, key=lambda r: r[1]) if ratios else ("-", float("nan"))
    rows.append(
        f"| small ops: median ratio <= 1.05 | {'yes' if worst[1] <= 1.05 else 'no'} | "
        + "; ".join(f"{n} {r:.2f}" for n, r in ratios)
        + " |"
    )
    moves = [op for op in ops if op["group"] == "transfer"]
    tp = [(op["op"], 1 / _paired_ratio(op, "ours")) for op in moves if "sdk" in op["impls"]]
    bad = [f"{n}: {r:.2f}" for n, r in tp if not r >= 0.95]
    rows.append(
        "| large transfers: throughput >= 0.95 x sdk, same concurrency | "
        f"{'yes' if not bad else 'no'} | "
        + "; ".join(f"{n.split(',')[0].split()[0]} c={n.rsplit(' ', 1)[1]} {r:.2f}" for n, r in tp)
        + " |"
    )
    like = []  # uploads against the raw SDK producing the same result (blob + its MD5)
    for op in moves:
        if op["params"]["direction"] == "upload" and "sdk+md5" in op["impls"]:
            ratio = _paired_ratio(op, "ours", "sdk+md5")
            if not math.isnan(ratio):
                like.append((op["params"]["concurrency"], 1 / ratio))
    if like:
        rows.append(
            "| uploads: throughput >= 0.95 x sdk+md5 (the same result: blob + stored MD5) | "
            f"{'yes' if all(r >= 0.95 for _, r in like) else 'no'} | "
            + "; ".join(f"c={c} {r:.2f}" for c, r in like)
            + " |"
        )
    for op in _find(ops, "glob"):
        seen = op["impls"]["ours"].get("prefixes") or []
        rows.append(
            f"| glob lists only its literal prefix | "
            f"{'yes' if {p.rstrip('/') for p in seen} == {'prefix'} else 'no'} "
            f"| listing prefixes sent: {', '.join(seen) or '-'} |"
        )
    rss = []
    for op in moves:
        c = op["params"]["concurrency"]
        growth = _stat(op, "ours", "rss_growth")
        bound = 16 * MiB + 8 * MiB * c
        rss.append((op["op"], growth, bound))
    over = [f"{n}: {g / MiB:.0f} > {b / MiB:.0f} MiB" for n, g, b in rss if not g <= b]
    rows.append(
        "| peak RSS growth <= 16 MiB + block x concurrency | "
        f"{'yes' if not over else 'no'} | "
        + ("; ".join(over) if over else "; ".join(f"{g / MiB:.0f} MiB" for _, g, _ in rss))
        + " |"
    )
    seq, seek = _find(ops, "read() sequential"), _find(ops, "read_seekable sequential")
    if seq and seek:
        ratio = _stat(seek[0], "ours", "seconds") / _stat(seq[0], "ours", "seconds")
        req = (_stat(seek[0], "ours", "requests"), _stat(seq[0], "ours", "requests"))
        rows.append(
            f"| read_seekable sequential within 1.2x of read() | {'yes' if ratio <= 1.2 else 'no'}"
            f" | {ratio:.2f}x; requests {req[0]:.0f} vs {req[1]:.0f} |"
        )
    beat = []
    for direction in ("upload", "download"):
        theirs = [op for op in moves if op["params"]["direction"] == direction]
        ours = [op for op in theirs if op["params"]["concurrency"] == DEFAULT_MAX_CONCURRENCY]
        sdk = [op for op in theirs if "sdk-defaults" in op["impls"]]
        if ours and sdk:
            beat.append((direction, 1 / _across(ours[0], sdk[0], "sdk-defaults")))
    if beat:
        rows.append(
            f"| defaults beat the SDK's defaults (ours: c={DEFAULT_MAX_CONCURRENCY}, "
            "SDK: c=1, large transfers) | "
            f"{'yes' if all(r >= 1 for _, r in beat) else 'no'} | "
            + "; ".join(f"{d}: {r:.2f}x the SDK-default speed" for d, r in beat)
            + " |"
        )
    return rows


def _across(mine: dict[str, Any], theirs: dict[str, Any], baseline: str) -> float:
    """`_paired_ratio` of ours in *mine* against *baseline* in another operation of the same
    run: the n-th samples of both come from the same repetition (none may have failed)."""
    slots = (mine["impls"]["ours"], theirs["impls"][baseline])
    if mine.get("rerun") != theirs.get("rerun") or any(slot.get("error") for slot in slots):
        return float("nan")
    return median(_ratios(*slots))


def _median_interval(values: list[float]) -> tuple[float, float]:
    """A distribution-free interval holding the median with >= 95% confidence: the k-th
    smallest and k-th largest value, k the largest with P(Binomial(n, 1/2) < k) <= 2.5%."""
    n, ordered = len(values), sorted(values)
    k, tail = 0, 0.0
    while k < n and tail + math.comb(n, k) / 2**n <= 0.025:
        tail += math.comb(n, k) / 2**n
        k += 1
    if k == 0:
        return float("-inf"), float("inf")  # too few pairs to bound the median at all
    return ordered[k - 1], ordered[n - k]


def repeated(ops: list[dict[str, Any]]) -> list[str]:
    """Throughput ratios (baseline time / our time, per repetition) of re-measured points."""
    head = (
        "| operation | our throughput / that of | pairs | median | 95% interval of the median | "
        "quartiles | range | pairs >= 0.95 | median >= 0.95? |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for op in ops:
        for baseline in ("sdk+md5", "sdk"):
            if baseline not in op["impls"]:
                continue
            ratios = sorted(_ratios(op["impls"][baseline], op["impls"]["ours"]))
            if not ratios:
                continue
            low, high = _median_interval(ratios)
            verdict = "yes" if low >= 0.95 else "no" if high < 0.95 else "not resolved"
            quarter = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
            lines.append(
                f"| {op['op']} | {baseline} | {len(ratios)} | {median(ratios):.2f} | "
                f"{low:.3f} to {high:.3f} | {quarter[0]:.2f} to {quarter[2]:.2f} | "
                f"{ratios[0]:.2f} to {ratios[-1]:.2f} | "
                f"{sum(r >= 0.95 for r in ratios)} of {len(ratios)} | {verdict} |"
            )
    return lines


def charts(name: str, ops: list[dict[str, Any]], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    made: list[str] = []
    small = [op for op in ops if op["group"] == "small"]
    if small:
        fig, ax = plt.subplots(figsize=(8, 3.6))
        impls = [n for n in IMPL_ORDER if any(n in op["impls"] for op in small)]
        width = 0.8 / len(impls)
        for k, impl in enumerate(impls):
            values = [_stat(op, impl, "seconds") * 1000 for op in small]
            ax.bar([i + k * width for i in range(len(small))], values, width, label=impl)
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(small))])
        ax.set_xticklabels([op["op"] for op in small], fontsize=8)
        ax.set_ylabel("median ms")
        ax.set_title(f"1 KiB operations ({name})")
        ax.legend()
        made.append(_save(fig, out / f"{name}-small.png"))
    moves = [op for op in ops if op["group"] == "transfer"]
    if moves:
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
        for ax, direction in zip(axes, ("upload", "download"), strict=True):
            sel = [op for op in moves if op["params"]["direction"] == direction]
            labels, values, colors = [], [], []
            for op in sel:
                for impl in _ordered(op):
                    seconds = _stat(op, impl, "seconds")
                    if math.isnan(seconds):
                        continue
                    labels.append(f"{impl}\nc={op['params']['concurrency']}")
                    values.append(op["params"]["bytes"] / MiB / seconds)
                    colors.append(f"C{IMPL_ORDER.index(impl)}")
            _bars(ax, labels, values, colors, 7, "MiB/s", f"{direction} ({name})")
        made.append(_save(fig, out / f"{name}-transfer.png"))
        fig, ax = plt.subplots(figsize=(9, 3.6))
        labels, values, colors = [], [], []
        for op in moves:
            for impl in _ordered(op):
                growth = _stat(op, impl, "rss_growth")
                if not math.isnan(growth):
                    c = op["params"]["concurrency"]
                    labels.append(f"{op['params']['direction'][:4]}\n{impl}\nc={c}")
                    values.append(growth / MiB)
                    colors.append(f"C{IMPL_ORDER.index(impl)}")
        title = f"memory during the large transfers ({name})"
        _bars(ax, labels, values, colors, 6, "peak RSS growth, MiB", title)
        made.append(_save(fig, out / f"{name}-memory.png"))
    return made


def _bars(
    ax: Any,
    labels: list[str],
    values: list[float],
    colors: list[str],
    size: int,
    y: str,
    title: str,
) -> None:
    ax.bar(range(len(values)), values, color=colors)
    ax.set_xticks(range(len(values)))
    ax.set_xticklabels(labels, fontsize=size)
    ax.set_ylabel(y)
    ax.set_title(title)


def _save(fig: Any, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path.name


def write(paths: list[Path], docs: Path, repeats: Sequence[Path] = ()) -> None:
    runs = [json.loads(p.read_text()) for p in paths]
    again = [json.loads(p.read_text()) for p in repeats]
    merged: dict[str, Any] = {}
    for run in runs:  # later files add targets, and replace operations of the same name
        for name, result in run["targets"].items():
            if name not in merged:
                merged[name] = {**result, "mode": run["mode"], "started": run["started"]}
                continue
            ops = {op["op"]: op for op in merged[name]["operations"]}
            for op in result["operations"]:
                op["rerun"] = run["started"]
                ops[op["op"]] = op
            merged[name]["operations"] = list(ops.values())
    first = runs[0]
    m = first["machine"]
    lines = ["# Performance", ""]
    lines += (NOTES.read_text().split("<!-- results -->")[0].rstrip() + "\n").splitlines()
    lines += ["", "## Machine and versions", ""]
    lines += [f"- {row}" for row in m["cpu"]]
    lines += [f"- nproc: {m['nproc']}", "- memory (`free -m`):", "", "  ```"]
    lines += [f"  {row}" for row in m["memory"]] + ["  ```", ""]
    lines += [
        f"- Linux {m['kernel']}, Python {m['python']}, node {m['node']}, Azurite {m['azurite']}",
        "- " + ", ".join(f"{k} {v}" for k, v in m["packages"].items()),
    ]
    for run in runs + again:
        lines.append(
            f"- run `{run['command']}` started {run['started']} ({run['seconds']:.0f} s), "
            f"load average at start {' '.join(run['machine']['loadavg'])}"
        )
    for name, result in merged.items():
        ops = result["operations"]
        title = "Azurite, flat namespace" if name == "flat" else "HNS emulator"
        lines += ["", f"## {title} (`{name}`, {result['mode']} run)", ""]
        lines.append(f"Load average after this target: {' '.join(result['loadavg_after'])}.")
        lines += ["", "### Targets", "", *targets(ops)]
        if any(name in run["targets"] for run in again):
            lines += [
                "",
                "Some transfer points were measured again with more repetitions "
                "(*Re-measured* below); the summary at the end judges them from there.",
            ]
        for img in charts(name, ops, docs / "performance"):
            lines += ["", f"![{img}](performance/{img})"]
        for group, heading in (
            ("small", "Small files (1 KiB)"),
            ("listing", "Listing and glob"),
            ("folders", "Folders"),
            ("seekable", "Seekable reads"),
        ):
            sel = [op for op in ops if op["group"] == group]
            if sel:
                lines += ["", f"### {heading}", "", *table(sel)]
        sel = [op for op in ops if op["group"] == "transfer"]
        if sel:
            lines += ["", "### Large streamed transfers", "", *table(sel, transfer=True)]
        for run in again:
            sel = run["targets"].get(name, {}).get("operations", [])
            if sel:
                lines += ["", f"### Re-measured: `{run['command']}`", ""]
                lines += [*table(sel, transfer=True), "", *repeated(sel)]
        sel = [op for op in ops if op["group"] == "sweep"]
        if sel:
            lines += ["", "### Transfer-size sweep (ours, to choose the defaults)", ""]
            lines += table(sel, transfer=True)
    if (ds_json := Path(__file__).parent / "results" / "datascience.json").exists():  # issue 21
        from benchmarks.datascience import markdown as ds_markdown

        lines += ["", "## Data science vs adlfs", "", *ds_markdown(json.loads(ds_json.read_text()))]
    if "<!-- results -->" in NOTES.read_text():
        lines += ["", *NOTES.read_text().split("<!-- results -->", 1)[1].strip().splitlines()]
    lines += sftp_page.markdown(Path(__file__).parent / "results")
    s3_runs = sorted(paths[0].parent.glob("s3*.json"))  # benchmarks/s3.py's result files
    if s3_runs:
        from benchmarks.s3_report import markdown

        s3 = sorted((json.loads(p.read_text()) for p in s3_runs), key=lambda r: r["started"])
        lines += ["", *markdown(s3)]
    (docs / "performance.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {docs / 'performance.md'}")


def _ratio(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}"
