"""Planning transfers: which files a source operand names, and where each one lands.

Rules (the same as ``cp``): a file copied onto an existing folder, or onto a path written
with a trailing ``/``, lands inside it under its own name. ``-r FOLDER DEST`` creates
``DEST`` as the copy, or ``DEST/FOLDER`` when ``DEST`` already exists; ``FOLDER/`` (trailing
slash) always copies the folder's contents. A glob copies its matches below the pattern's
literal folder, keeping their relative paths.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from remote_store import paths
from remote_store.cli.addresses import split_glob
from remote_store.cli.failures import EXIT_USAGE, CommandError
from remote_store.cli.session import Location
from remote_store.cli.transfer import Job
from remote_store.errors import NotFound
from remote_store.models import FileInfo


@dataclass(frozen=True)
class Source:
    """The files one operand names: each with its path relative to *base*."""

    location: Location
    files: list[tuple[FileInfo, str]]
    is_single_file: bool


def expand(source: Location, *, recursive: bool, verb: str = "copy") -> Source:
    """The files *source* names; a folder needs *recursive*; nothing found is `NotFound`."""
    store, key = source.store, source.key
    if source.address.has_glob:
        base, _ = split_glob(key)
        matches = [(info, paths.relative_to(base, info.path)) for info in store.glob(key)]
        if not matches:
            raise NotFound(f"no file matches {source.show()!r}", path=source.show())
        return Source(source, sorted(matches, key=lambda m: m[1]), False)
    if key:
        info = source.file_info() if not source.address.raw.endswith("/") else None
        if info is not None:
            return Source(source, [(info, info.name)], True)
    if not store.is_folder(key):
        raise NotFound(f"{source.show()!r} does not exist", path=source.show())
    if not recursive:
        raise CommandError(f"{source.show()!r} is a folder; use -r to {verb} it")
    files = [(info, paths.relative_to(key, info.path)) for info in _walk(source)]
    return Source(source, sorted(files, key=lambda m: m[1]), False)


def _walk(source: Location) -> Iterator[FileInfo]:
    return source.store.list_files(source.key, recursive=True)


def dest_base(src: Source, dst: Location, *, many: bool) -> str:
    """The key below which *src*'s relative paths land (or the file key for one file)."""
    dst_is_folder = dst.address.is_dir_hint or (dst.key == "" or dst.store.is_folder(dst.key))
    if src.is_single_file:
        name = src.files[0][1]
        return paths.join(dst.key, name) if dst_is_folder or many else dst.key
    if src.location.address.has_glob or src.location.address.raw.endswith("/"):
        return dst.key
    if dst_is_folder and src.location.key:
        return paths.join(dst.key, src.location.key.rsplit("/", 1)[-1])
    return dst.key


def jobs_for(sources: list[Source], dst: Location) -> list[Job]:
    """One job per file; a file that would land on itself is a usage error."""
    many = len(sources) > 1
    jobs: list[Job] = []
    for src in sources:
        base = dest_base(src, dst, many=many)
        for info, rel in src.files:
            key = base if src.is_single_file else paths.join(base, rel)
            if not key:
                raise CommandError(
                    f"{dst.show()!r} names a store root; give a file name or a folder",
                    exit_code=EXIT_USAGE,
                )
            source_loc = src.location.child(info.path)
            target = dst.child(key)
            if source_loc.store.backend is target.store.backend and _full(source_loc) == _full(
                target
            ):
                raise CommandError(
                    f"{source_loc.show()!r} and {target.show()!r} are the same file",
                    exit_code=EXIT_USAGE,
                )
            jobs.append(Job(source_loc, info, target))
    return jobs


def _full(location: Location) -> str:
    return paths.join(location.store.root_path, location.key)
