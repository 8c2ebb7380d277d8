"""Commands that look without changing anything: ls, tree, stat, du, cat, resolve, stores."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import click

from remote_store import paths
from remote_store.cli.context import global_flags, json_flag, state
from remote_store.cli.output import (
    columns,
    echo,
    emit_json,
    file_record,
    folder_record,
    human_size,
    human_time,
)
from remote_store.cli.session import Location
from remote_store.errors import NotFound
from remote_store.models import FileInfo, FolderEntry

_FOLDER_SIZE = "-"


def _entries(loc: Location, recursive: bool) -> Iterator[FileInfo | FolderEntry]:
    """What ``ls`` shows for *loc*: glob matches, the file itself, or the folder's children."""
    store, key = loc.store, loc.key
    if loc.address.has_glob:
        yield from store.glob(key)
        return
    info = loc.file_info()
    if info is not None:
        yield info
        return
    if not store.is_folder(key):
        raise NotFound(f"{loc.show()!r} does not exist", path=loc.show())
    if recursive:
        yield from store.list_files(key, recursive=True)
    else:
        yield from store.iter_children(key)


def _name(loc: Location, entry: FileInfo | FolderEntry) -> str:
    base = loc.key if not loc.address.has_glob else ""
    if loc.key and entry.path == loc.key:  # the address named this file
        return loc.address.raw
    name = paths.relative_to(base, entry.path) if paths.is_within(base, entry.path) else entry.path
    return name + "/" if isinstance(entry, FolderEntry) else name


@click.command()
@click.argument("addresses", nargs=-1, metavar="[ADDRESS]...")
@click.option("-l", "long", is_flag=True, help="Show size and modification time.")
@click.option("-R", "recursive", is_flag=True, help="Every file below, at any depth.")
@json_flag
@global_flags
def ls(addresses: tuple[str, ...], long: bool, recursive: bool, as_json: bool) -> None:
    """List files and folders (folders end in '/').

    Without ADDRESS, list the configured stores.

    \b
    Examples:
      remote-store ls data:                 # top of store 'data'
      remote-store ls -l data:raw/2026      # sizes and times
      remote-store ls -R --json data:raw    # every file below, as JSON
      remote-store ls 'data:raw/**/*.csv'   # a glob (quote it for the shell)
    """
    if not addresses:
        _list_stores(as_json)
        return
    records: list[dict[str, Any]] = []
    for index, loc in enumerate(state().open_all(list(addresses))):
        rows: list[list[str]] = []
        with loc.about():
            entries = list(_entries(loc, recursive))
        for entry in entries:
            name = _name(loc, entry)
            if as_json:
                shown = loc.show(entry.path)
                records.append(
                    file_record(entry, shown)
                    if isinstance(entry, FileInfo)
                    else folder_record(None, shown + "/")
                )
            elif not long:
                rows.append([name])
            elif isinstance(entry, FileInfo):
                rows.append([human_size(entry.size), human_time(entry.modified), name])
            else:
                rows.append([_FOLDER_SIZE, "-", name])
        if as_json:
            continue
        if len(addresses) > 1:
            echo(("\n" if index else "") + f"{loc.address.raw}:")
        for line in columns(rows, right=(0,) if long else ()):
            echo(line)
    if as_json:
        emit_json(records)


@click.command()
@click.argument("address")
@click.option("-d", "--depth", type=click.IntRange(1), help="Descend at most this deep.")
@json_flag
@global_flags
def tree(address: str, depth: int | None, as_json: bool) -> None:
    """Show a folder and everything below it as a tree, with file sizes.

    \b
    Examples:
      remote-store tree data:raw
      remote-store tree -d 2 ./downloads
    """
    loc = state().open_all([address])[0]
    with loc.about():
        if not loc.store.is_folder(loc.key):
            raise NotFound(f"folder {loc.show()!r} does not exist", path=loc.show())
        node = _node(loc, loc.key, depth)
    if as_json:
        emit_json(node)
        return
    echo(address)
    for line in _draw(node.get("children", []), ""):
        echo(line)


def _node(loc: Location, key: str, depth: int | None) -> dict[str, Any]:
    children: list[dict[str, Any]] = []
    if depth is None or depth > 0:
        for entry in loc.store.iter_children(key):
            if isinstance(entry, FileInfo):
                children.append({"name": entry.name, "type": "file", "size": entry.size})
            else:
                child = _node(loc, entry.path, None if depth is None else depth - 1)
                children.append({"name": entry.name, "type": "folder", **child})
    return {"path": loc.show(key), "children": children}


def _draw(children: list[dict[str, Any]], indent: str) -> Iterator[str]:
    for index, child in enumerate(children):
        last = index == len(children) - 1
        branch, extend = ("└── ", "    ") if last else ("├── ", "│   ")
        if child["type"] == "file":
            yield f"{indent}{branch}{child['name']}  ({human_size(child['size'])})"
        else:
            yield f"{indent}{branch}{child['name']}/"
            yield from _draw(child["children"], indent + extend)


@click.command()
@click.argument("addresses", nargs=-1, required=True, metavar="ADDRESS...")
@json_flag
@global_flags
def stat(addresses: tuple[str, ...], as_json: bool) -> None:
    """Show details of files or folders.

    A file's size, time, etag, digest and metadata; a folder's file count and total size.

    \b
    Examples:
      remote-store stat data:raw/events.jsonl
      remote-store stat --json data:raw
    """
    records = []
    for loc in state().open_all(list(addresses)):
        with loc.about():
            records.append(_stat(loc))
    if as_json:
        emit_json(records if len(records) > 1 else records[0])
        return
    for index, record in enumerate(records):
        if index:
            echo()
        for name, value in record.items():
            if value is None or value == {}:
                continue
            if name in ("size", "total_size"):
                value = f"{human_size(value)} ({value} bytes)"
            echo(f"{name + ':':<14}{value}")


def _stat(loc: Location) -> dict[str, Any]:
    info = loc.file_info()
    if info is not None:
        record = file_record(info, loc.show())
    elif loc.store.is_folder(loc.key):
        record = folder_record(loc.store.get_folder_info(loc.key), loc.show())
    else:
        raise NotFound(f"{loc.show()!r} does not exist", path=loc.key)
    record["native_path"] = loc.store.native_path(loc.key)
    return record


@click.command()
@click.argument("addresses", nargs=-1, required=True, metavar="ADDRESS...")
@click.option("-s", "--summarize", is_flag=True, help="Only the total of each ADDRESS.")
@json_flag
@global_flags
def du(addresses: tuple[str, ...], summarize: bool, as_json: bool) -> None:
    """Show the size and file count of folders.

    Each immediate subfolder, then the total.

    \b
    Examples:
      remote-store du data:raw        # each subfolder, then the total
      remote-store du -s data: ./out  # one line per address
    """
    rows: list[dict[str, Any]] = []
    for loc in state().open_all(list(addresses)):
        with loc.about():
            rows.extend(_du_rows(loc, summarize))
    if as_json:
        emit_json(rows)
        return
    table = [
        [
            human_size(r["total_size"]),
            f"{r['file_count']} file" + ("" if r["file_count"] == 1 else "s"),
            r["path"],
        ]
        for r in rows
    ]
    for line in columns(table, right=(0, 1)):
        echo(line)


def _du_rows(loc: Location, summarize: bool) -> list[dict[str, Any]]:
    info = loc.file_info()
    if info is not None:
        return [{"path": loc.show(), "file_count": 1, "total_size": info.size}]
    rows = []
    if not summarize:
        for folder in sorted(loc.store.list_folders(loc.key), key=lambda f: f.path):
            rows.append(_du_row(loc, folder.path))
    rows.append(_du_row(loc, loc.key))
    return rows


def _du_row(loc: Location, key: str) -> dict[str, Any]:
    folder = loc.store.get_folder_info(key)
    return {"path": loc.show(key), "file_count": folder.file_count, "total_size": folder.total_size}


@click.command()
@click.argument("addresses", nargs=-1, required=True, metavar="ADDRESS...")
@global_flags
def cat(addresses: tuple[str, ...]) -> None:
    """Write files to standard output, streamed.

    \b
    Examples:
      remote-store cat data:raw/events.jsonl | head
      remote-store cat 'data:logs/*.log' > all.log
    """
    to_stdout(state().open_all(list(addresses)))


def to_stdout(locations: list[Location]) -> None:
    """Stream every file named by *locations* (globs included) to standard output."""
    out = sys.stdout.buffer
    for loc in locations:
        with loc.about():
            keys = [i.path for i in loc.store.glob(loc.key)] if loc.address.has_glob else [loc.key]
            if not keys:
                raise NotFound(f"no file matches {loc.show()!r}", path=loc.show())
            for key in keys:
                loc.store.read_to(key, out)
    out.flush()


@click.command()
@click.argument("addresses", nargs=-1, required=True, metavar="ADDRESS...")
@json_flag
@global_flags
def resolve(addresses: tuple[str, ...], as_json: bool) -> None:
    """Print the native path or URL of an address.

    Never includes a credential.

    \b
    Examples:
      remote-store resolve data:raw/events.jsonl
      remote-store resolve --json az://datasets/raw
    """
    plans = []
    for loc in state().open_all(list(addresses)):
        with loc.about():
            plan = loc.store.resolve(loc.key)
        if not as_json:
            echo(plan.native_path)
        plans.append(
            {
                "address": loc.show(),
                "backend": plan.backend,
                "kind": plan.kind,
                "native_path": plan.native_path,
                "details": {k: _plain(v) for k, v in plan.details.items()},
            }
        )
    if as_json:
        emit_json(plans if len(plans) > 1 else plans[0])


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


@click.command()
@json_flag
@global_flags
def stores(as_json: bool) -> None:
    """List the configured stores and the config file in force.

    The configuration is the first of: --config PATH, $REMOTE_STORE_CONFIG,
    ./remote-store.toml, [tool.remote-store] in ./pyproject.toml; else a built-in store
    'local' on the current directory.
    """
    _list_stores(as_json)


def _list_stores(as_json: bool) -> None:
    found = state().session().found
    config = found.config
    records = [
        {
            "store": name,
            "backend": profile.backend,
            "type": config.backends[profile.backend].type,
            "root_path": profile.root_path,
        }
        for name, profile in config.stores.items()
    ]
    if as_json:
        emit_json({"config": found.source, "stores": records})
        return
    echo(f"config: {found.source}")
    table = [["STORE", "BACKEND", "TYPE", "ROOT"]] + [
        [f"{r['store']}:", r["backend"], r["type"], r["root_path"] or "/"] for r in records
    ]
    for line in columns(table):
        echo(line)
