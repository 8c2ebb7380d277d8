"""The benchmark suite: ``python -m benchmarks run`` measures, ``report`` publishes.

    bash scripts/install-azurite.sh
    .venv/bin/pip install -e ".[azure,bench]"
    .venv/bin/python -m benchmarks run --out benchmarks/results/          # ~40 min
    .venv/bin/python -m benchmarks run --quick --out benchmarks/results/  # smoke, ~3 min
    .venv/bin/python -m benchmarks report benchmarks/results/full.json    # docs/performance.md

See docs/performance.md for what is measured and what the numbers mean.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import operations, transfer
from benchmarks.common import install_counter
from benchmarks.impls import Impl, build
from benchmarks.targets import ROOT, Target, machine, start


def run(args: argparse.Namespace) -> Path:
    install_counter()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{args.name or ('quick' if args.quick else 'full')}.json"
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f}s] {message}", flush=True)

    results: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "command": " ".join(["python -m benchmarks", *sys.argv[1:]]),
        "targets": {},
    }
    for name in args.targets.split(","):
        log(f"target {name}")
        with start(name) as target:
            ops: list[dict[str, Any]] = []
            if not args.transfers_only:
                sizes = operations.QUICK if args.quick else operations.FULL

                def make(container: str, target: Target = target) -> list[Impl]:
                    return [build(n, target, container) for n in ("ours", "sdk", "adlfs")]

                only = frozenset(args.only.split(",")) if args.only else frozenset()
                ops += operations.run_all(target, make, sizes, log, only)
            if not args.skip_transfers:
                plan = transfer.QUICK if args.quick else transfer.FULL
                if name == "hns" and not args.quick:
                    plan = transfer.HNS_FULL
                if args.concurrency or args.reps:
                    plan = transfer.narrowed(plan, args.concurrency, args.reps)
                ops += transfer.run_all(target, target.new_container(), plan, log)
            results["targets"][name] = {"operations": ops, "loadavg_after": _load()}
        results["seconds"] = round(time.perf_counter() - started, 1)
        path.write_text(json.dumps(results, indent=1))
        log(f"wrote {path}")
    return path


def _load() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="run the suite, write results JSON")
    p_run.add_argument("--out", default=str(ROOT / "benchmarks/results"))
    p_run.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    p_run.add_argument("--targets", default="flat,hns", help="comma-separated: flat,hns")
    p_run.add_argument("--skip-transfers", action="store_true")
    p_run.add_argument("--transfers-only", action="store_true")
    p_run.add_argument(
        "--only", default="", help="operation groups: small_files,listing,folders,seekable"
    )
    p_run.add_argument("--concurrency", default="", help="transfers at these only: 4,8")
    p_run.add_argument("--reps", default="", help="transfer repetitions: UPLOADS,DOWNLOADS")
    p_run.add_argument("--name", default="", help="results file name (default full/quick)")
    p_run.add_argument("--report", action="store_true", help="write the docs afterwards")
    p_report = sub.add_parser("report", help="write docs/performance.md and its charts")
    p_report.add_argument("results", nargs="+", help="results JSON file(s), merged in order")
    p_report.add_argument("--docs", default=str(ROOT / "docs"))
    p_report.add_argument(
        "--repeated",
        action="append",
        default=[],
        help="results JSON of more repetitions of some points: shown beside, never merged",
    )
    args = parser.parse_args()
    if args.command == "run":
        path = run(args)
        if args.report:
            from benchmarks import report

            report.write([path], Path(str(ROOT / "docs")))
    else:
        from benchmarks import report

        report.write(
            [Path(p) for p in args.results], Path(args.docs), [Path(p) for p in args.repeated]
        )


if __name__ == "__main__":
    main()
