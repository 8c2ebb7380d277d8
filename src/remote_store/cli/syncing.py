"""One-way folder sync: copy what differs, skip what already matches, optionally delete."""

from __future__ import annotations

import threading
from collections.abc import Callable

from remote_store import paths
from remote_store.cli.context import state
from remote_store.cli.failures import EXIT_USAGE, CommandError
from remote_store.cli.session import Location
from remote_store.cli.transfer import Job, Outcome, Report, copy_file, same_content
from remote_store.errors import NotFound
from remote_store.models import FileInfo

Execute = Callable[..., Report]


def _listing(loc: Location) -> dict[str, FileInfo]:
    """Every file below *loc*, by path relative to it."""
    if not loc.store.is_folder(loc.key):
        return {}
    return {
        paths.relative_to(loc.key, info.path): info
        for info in loc.store.list_files(loc.key, recursive=True)
    }


def sync_folders(
    source: str,
    dest: str,
    *,
    dry_run: bool,
    delete: bool,
    size_only: bool,
    jobs: int,
    quiet: bool,
    execute: Execute,
) -> Report:
    """Plan and run the sync of folder *source* onto folder *dest*."""
    src, dst = state().open_all([source, dest])
    if src.file_info() is not None:
        raise CommandError(
            f"{src.show()!r} is a file; sync works on folders (use cp for a file)",
            exit_code=EXIT_USAGE,
        )
    if not src.store.is_folder(src.key):
        raise NotFound(f"folder {src.show()!r} does not exist", path=src.show())
    if dst.file_info() is not None:
        raise CommandError(f"{dst.show()!r} is a file, not a folder", exit_code=EXIT_USAGE)
    theirs = _listing(dst)
    planned = [
        Job(src.child(info.path), info, dst.child(paths.join(dst.key, rel)), theirs.get(rel))
        for rel, info in sorted(_listing(src).items())
    ]
    if planned and src.store.backend is dst.store.backend:
        _refuse_overlap(src, dst)

    def work(job: Job, cancel: threading.Event, on_bytes: Callable[[int], None]) -> str:
        if same_content(job, size_only=size_only, cancel=cancel):
            on_bytes(job.info.size)
            return "skipped"
        if not dry_run:
            copy_file(job, overwrite=True, cancel=cancel, on_bytes=on_bytes)
        return "copied"

    report: Report = execute("sync", planned, work, jobs=jobs, quiet=quiet)
    if delete:
        wanted = {paths.relative_to(dst.key, job.dst.key) for job in planned}
        for rel in sorted(set(theirs) - wanted):
            target = dst.child(paths.join(dst.key, rel))
            job = Job(target, theirs[rel], target)
            try:
                if not dry_run:
                    target.store.delete(target.key, missing_ok=True)
                report.outcomes.append(Outcome(job, "deleted"))
            except Exception as error:
                report.outcomes.append(Outcome(job, "failed", error))
    return report


def _refuse_overlap(src: Location, dst: Location) -> None:
    a = paths.join(src.store.root_path, src.key)
    b = paths.join(dst.store.root_path, dst.key)
    if paths.is_within(a, b) or paths.is_within(b, a):
        raise CommandError(
            f"{src.show()!r} and {dst.show()!r} overlap; sync needs two separate folders",
            exit_code=EXIT_USAGE,
        )
