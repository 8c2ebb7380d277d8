"""What every command shares: global flags, the lazily opened session, common options."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click

from remote_store.cli.discovery import discover
from remote_store.cli.session import Location, Session, common_anchor

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class State:
    """Global flags, and the session opened on first use and closed when the command ends."""

    config_path: str | None = None
    debug: bool = False
    quiet: bool = False
    _session: Session | None = field(default=None, repr=False)

    def session(self) -> Session:
        if self._session is None:
            self._session = Session(discover(self.config_path))
        return self._session

    def close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            session.close()

    def open_all(self, texts: list[str]) -> list[Location]:
        """Open every operand. When all are local paths they share one local backend rooted
        at their common folder, so copies stay on disk and moves are renames."""
        session = self.session()
        addresses = [session.parse(text) for text in texts]
        anchor = None
        if len(addresses) > 1 and all(a.kind == "local" for a in addresses):
            anchor = common_anchor(*(os.path.abspath(a.path) for a in addresses))
        return [session.open(address, anchor=anchor) for address in addresses]


def state() -> State:
    """The State of the running command."""
    return click.get_current_context().find_object(State) or State()


def _set(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value:
            setattr(ctx.ensure_object(State), name, value)

    return callback


def global_flags(command: F) -> F:
    """--quiet and --debug, accepted after the sub-command too (``remote-store ls -q``)."""
    command = click.option(
        "-q",
        "--quiet",
        is_flag=True,
        expose_value=False,
        callback=_set("quiet"),
        help="No progress bars or summaries.",
    )(command)
    return click.option(
        "--debug",
        is_flag=True,
        expose_value=False,
        callback=_set("debug"),
        help="Show the traceback of an error.",
    )(command)


def json_flag(command: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(command)


def jobs_option(command: F) -> F:
    return click.option(
        "-j",
        "--jobs",
        type=click.IntRange(1, 64),
        metavar="N",
        default=4,
        show_default=True,
        help="Files transferred in parallel.",
    )(command)
