"""Commands that move data: cp, get, put, mv, rm, sync."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TypedDict, Unpack

import click

from remote_store.cli.browse import to_stdout
from remote_store.cli.context import F, global_flags, jobs_option, json_flag, state
from remote_store.cli.failures import EXIT_USAGE, CommandError, describe
from remote_store.cli.output import emit_json, human_size, note
from remote_store.cli.plan import Source, expand, jobs_for
from remote_store.cli.progress import reporter
from remote_store.cli.transfer import Job, Report, Watched, copy_file, run, write_stream
from remote_store.errors import AlreadyExists

_NO_CLOBBER = click.option(
    "-n", "--no-clobber", is_flag=True, help="Skip files that already exist at DEST."
)
_RECURSIVE = click.option(
    "-r", "--recursive", is_flag=True, help="Copy folders and their contents."
)
_SOURCES = click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")


class _Flags(TypedDict):
    no_clobber: bool
    jobs: int
    as_json: bool


def _transfer_flags(command: F) -> F:
    return _NO_CLOBBER(jobs_option(json_flag(global_flags(command))))


def transfer(
    verb: str,
    sources: list[str],
    dest: str,
    *,
    recursive: bool,
    no_clobber: bool,
    jobs: int,
    as_json: bool,
    move: bool = False,
) -> None:
    """Shared body of cp, get, put and mv."""
    st = state()
    if sources == ["-"]:
        _from_stdin(dest, no_clobber=no_clobber, as_json=as_json)
        return
    if "-" in sources:
        raise CommandError("'-' (standard input) must be the only source", exit_code=EXIT_USAGE)
    if dest == "-":
        to_stdout(st.open_all(sources))
        return
    *src_locs, dst = st.open_all([*sources, dest])
    expanded = []
    for src in src_locs:
        with src.about():
            expanded.append(expand(src, recursive=recursive or move, verb=verb))
    planned = jobs_for(expanded, dst)

    def work(job: Job, cancel: threading.Event, on_bytes: Callable[[int], None]) -> str:
        if no_clobber and job.dst.store.exists(job.dst.key):
            return "skipped"
        try:
            copy_file(job, overwrite=not no_clobber, cancel=cancel, on_bytes=on_bytes, move=move)
        except AlreadyExists:
            if no_clobber:  # created after we looked: still not ours to replace
                return "skipped"
            raise
        return "moved" if move else "copied"

    report = _execute(verb, planned, work, jobs=jobs, quiet=as_json)
    if move and not report.failed:
        _remove_emptied(expanded)
    _finish(verb, report, as_json=as_json)


def _execute(
    verb: str,
    planned: list[Job],
    work: Callable[[Job, threading.Event, Callable[[int], None]], str],
    *,
    jobs: int,
    quiet: bool = False,
) -> Report:
    st = state()
    total = sum(job.info.size for job in planned)
    started = time.monotonic()
    with reporter(verb, len(planned), total, enabled=not (st.quiet or quiet)) as progress:
        report = run(planned, work, workers=jobs, progress=progress)
    report.seconds = time.monotonic() - started
    return report


def _remove_emptied(sources: list[Source]) -> None:
    """After a folder move, remove the source folder once nothing is left in it."""
    for src in sources:
        loc = src.location
        if src.is_single_file or loc.address.has_glob or not loc.key:
            continue
        if next(iter(loc.store.list_files(loc.key, recursive=True)), None) is None:
            loc.store.delete_folder(loc.key, recursive=True, missing_ok=True)


def _finish(verb: str, report: Report, *, as_json: bool, dry_run: bool = False) -> None:
    """Print the JSON report or the failures and a summary; exit 1 if any file failed."""
    for outcome in report.failed:
        where = f"{verb} {outcome.job.src.show()} -> {outcome.job.dst.show()}"
        note(f"remote-store: error: {describe(outcome.error or RuntimeError(), where)}")
    if as_json:
        emit_json(_json(report, dry_run))
    elif not state().quiet:
        # On a terminal it follows the progress bar; in a log (no terminal) it is the one
        # line saying what happened.
        note(_summary(verb, report, dry_run))
    if report.failed:
        raise CommandError(f"{len(report.failed)} of {len(report.outcomes)} files failed")


def _json(report: Report, dry_run: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"dry_run": dry_run} if dry_run else {}
    for status in ("copied", "moved", "skipped", "deleted", "failed"):
        items = []
        for outcome in report.by_status(status):
            item: dict[str, Any] = {
                "source": outcome.job.src.show() if status != "deleted" else None,
                "dest": outcome.job.dst.show(),
                "size": outcome.job.info.size,
            }
            if status == "deleted":
                del item["source"]
            if outcome.error is not None:
                item["error"] = describe(outcome.error)
            items.append(item)
        data[status] = items
    moved = report.by_status("copied") + report.by_status("moved")
    data["bytes"] = sum(o.job.info.size for o in moved)
    data["seconds"] = round(report.seconds, 3)
    return data


def _summary(verb: str, report: Report, dry_run: bool) -> str:
    done = report.by_status("copied") + report.by_status("moved")
    size = human_size(sum(o.job.info.size for o in done))
    parts = [f"{'would ' if dry_run else ''}{verb}: {_files(len(done))} ({size})"]
    for status in ("skipped", "deleted", "failed"):
        if count := len(report.by_status(status)):
            parts.append(f"{count} {status}")
    return f"{', '.join(parts)} in {report.seconds:.1f} s"


def _files(count: int) -> str:
    return f"{count} file" if count == 1 else f"{count} files"


def _from_stdin(dest: str, *, no_clobber: bool, as_json: bool) -> None:
    dst = state().open_all([dest])[0]
    if dst.address.is_dir_hint or dst.store.is_folder(dst.key):
        raise CommandError(
            f"{dst.show()!r} is a folder; give a file name to write standard input to",
            exit_code=EXIT_USAGE,
        )
    counted = [0]

    def count(nbytes: int) -> None:
        counted[0] += nbytes

    stdin = sys.stdin.buffer
    write_stream(dst, Watched(stdin, threading.Event(), count), overwrite=not no_clobber)
    if as_json:
        emit_json({"copied": [{"source": "-", "dest": dst.show(), "size": counted[0]}]})


@click.command()
@_SOURCES
@click.argument("dest")
@_RECURSIVE
@_transfer_flags
def cp(sources: tuple[str, ...], dest: str, recursive: bool, **flags: Unpack[_Flags]) -> None:
    """Copy files between any stores and local paths, in parallel.

    A file copied onto an existing folder (or a DEST ending in '/') lands inside it.
    'cp -r FOLDER DEST' makes DEST the copy (DEST/FOLDER if DEST exists); 'FOLDER/'
    copies just the contents. Globs keep paths below their literal folder. '-' reads
    standard input or writes standard output. Every file lands whole or not at all.

    \b
    Examples:
      remote-store cp data:raw/q1.csv ./             # download one file
      remote-store cp -r ./exports data:incoming     # upload a folder
      remote-store cp 'data:raw/**/*.csv' ./csv/     # by glob, keeping sub-paths
      remote-store cp -r -j 16 data:raw az://backup/raw
    """
    transfer("copy", list(sources), dest, recursive=recursive, **flags)


@click.command()
@click.argument("args", nargs=-1, required=True, metavar="SOURCE... [DEST]")
@_RECURSIVE
@_transfer_flags
def get(args: tuple[str, ...], recursive: bool, **flags: Unpack[_Flags]) -> None:
    """Download from stores to a local path.

    DEST defaults to the current folder.

    \b
    Examples:
      remote-store get data:raw/q1.csv
      remote-store get -r data:raw ./raw
    """
    session = state().session()
    sources, dest = list(args), "."
    if len(args) > 1 and session.parse(args[-1]).kind in ("local", "stdio"):
        sources, dest = list(args[:-1]), args[-1]
    if any(session.parse(s).kind in ("local", "stdio") for s in sources):
        raise CommandError("get downloads from a store; use 'cp' or 'put'", exit_code=EXIT_USAGE)
    transfer("download", sources, dest, recursive=recursive, **flags)


@click.command()
@_SOURCES
@click.argument("dest")
@_RECURSIVE
@_transfer_flags
def put(sources: tuple[str, ...], dest: str, recursive: bool, **flags: Unpack[_Flags]) -> None:
    """Upload local files (or '-' for standard input) to a store.

    \b
    Examples:
      remote-store put report.csv data:reports/
      remote-store put -r ./exports data:incoming
      gzip -c big.log | remote-store put - data:logs/big.log.gz
    """
    session = state().session()
    if session.parse(dest).kind in ("local", "stdio"):
        raise CommandError(
            f"put uploads to a store; {dest!r} is local (use 'cp')", exit_code=EXIT_USAGE
        )
    if any(session.parse(s).kind not in ("local", "stdio") for s in sources):
        raise CommandError("put uploads local files; use 'cp' between stores", exit_code=EXIT_USAGE)
    transfer("upload", list(sources), dest, recursive=recursive, **flags)


@click.command()
@_SOURCES
@click.argument("dest")
@_transfer_flags
def mv(sources: tuple[str, ...], dest: str, **flags: Unpack[_Flags]) -> None:
    """Move files or folders.

    A rename within one backend where it can; else copy, then delete each source only
    after its copy landed whole.

    \b
    Examples:
      remote-store mv data:incoming/q1.csv data:done/
      remote-store mv ./exports data:archive/exports
    """
    transfer("move", list(sources), dest, recursive=True, move=True, **flags)


@click.command()
@click.argument("source")
@click.argument("dest")
@click.option("--dry-run", is_flag=True, help="Print what would change; change nothing.")
@click.option("--delete", is_flag=True, help="Also remove files in DEST that SOURCE lacks.")
@click.option("--size-only", is_flag=True, help="Equal sizes count as equal: no hashing.")
@jobs_option
@json_flag
@global_flags
def sync(
    source: str, dest: str, dry_run: bool, delete: bool, size_only: bool, jobs: int, as_json: bool
) -> None:
    """Make folder DEST hold what folder SOURCE holds (one-way).

    Files whose size and content digest already match are skipped; a side without a
    stored digest is hashed (md5) by streaming it.

    \b
    Examples:
      remote-store sync ./exports data:incoming
      remote-store sync --dry-run --json data:raw ./raw
      remote-store sync --delete data:raw az://backup/raw
    """
    from remote_store.cli.syncing import sync_folders

    report = sync_folders(
        source,
        dest,
        dry_run=dry_run,
        delete=delete,
        size_only=size_only,
        jobs=jobs,
        quiet=as_json,
        execute=_execute,
    )
    if dry_run and not as_json:
        for outcome in report.outcomes:
            if outcome.status in ("copied", "deleted"):
                verb = "copy" if outcome.status == "copied" else "delete"
                target = outcome.job.dst.show()
                source_text = f"{outcome.job.src.show()} -> " if verb == "copy" else ""
                click.echo(f"would {verb} {source_text}{target}")
    _finish("sync", report, as_json=as_json, dry_run=dry_run)
