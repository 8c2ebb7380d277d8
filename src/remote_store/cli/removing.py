"""rm: remove files, globs of files, or folders."""

from __future__ import annotations

from collections.abc import Callable

import click

from remote_store.cli.context import global_flags, json_flag, state
from remote_store.cli.failures import CommandError
from remote_store.cli.output import emit_json
from remote_store.cli.session import Location
from remote_store.errors import NotFound


@click.command()
@click.argument("addresses", nargs=-1, required=True, metavar="ADDRESS...")
@click.option("-r", "--recursive", is_flag=True, help="Remove folders and everything in them.")
@click.option("-f", "--force", is_flag=True, help="No error when nothing is there.")
@click.option("--dry-run", is_flag=True, help="Print what would be removed; remove nothing.")
@json_flag
@global_flags
def rm(
    addresses: tuple[str, ...], recursive: bool, force: bool, dry_run: bool, as_json: bool
) -> None:
    """Remove files, globs of files, or (with -r) folders.

    \b
    Examples:
      remote-store rm data:tmp/old.csv
      remote-store rm 'data:tmp/*.parquet'
      remote-store rm -r --dry-run data:tmp
    """
    removed: list[str] = []
    for loc in state().open_all(list(addresses)):
        with loc.about():
            for shown, action in _removals(loc, recursive=recursive, force=force):
                if not dry_run:
                    action()
                removed.append(shown)
    if as_json:
        emit_json({"deleted": removed, "dry_run": dry_run})
    elif dry_run:
        for shown in removed:
            click.echo(f"would remove {shown}")


def _removals(
    loc: Location, *, recursive: bool, force: bool
) -> list[tuple[str, Callable[[], None]]]:
    store = loc.store
    if loc.address.has_glob:
        matches = list(store.glob(loc.key))
        if not matches and not force:
            raise NotFound(f"no file matches {loc.show()!r}", path=loc.show())
        return [(loc.show(i.path), _deleter(loc, i.path)) for i in matches]
    if loc.file_info() is not None:
        return [(loc.show(), _deleter(loc, loc.key))]
    if store.is_folder(loc.key):
        if not recursive:
            raise CommandError(f"{loc.show()!r} is a folder; use -r to remove it")
        return [
            (
                loc.show() + "/",
                lambda: store.delete_folder(loc.key, recursive=True, missing_ok=True),
            )
        ]
    if force:
        return []
    raise NotFound(f"{loc.show()!r} does not exist", path=loc.show())


def _deleter(loc: Location, key: str) -> Callable[[], None]:
    return lambda: loc.store.delete(key, missing_ok=True)
