"""Progress for transfers: a rich bar (bytes, rate, ETA) on a terminal, nothing elsewhere."""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)


class Reporter(Protocol):
    """What the transfer engine tells about its progress; every method is thread-safe."""

    def advance(self, nbytes: int) -> None: ...

    def file_done(self) -> None: ...

    def __enter__(self) -> Reporter: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class Silent:
    """The reporter when stderr is not a terminal, or with --quiet / --json."""

    def advance(self, nbytes: int) -> None:
        pass

    def file_done(self) -> None:
        pass

    def __enter__(self) -> Silent:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass


class Bar:
    """One bar for the whole transfer: files done, bytes, rate and time left."""

    def __init__(self, verb: str, total_files: int, total_bytes: int | None) -> None:
        self._verb = verb
        self._files = total_files
        self._done = 0
        self._lock = threading.Lock()
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(binary_units=True),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._task: TaskID = self._progress.add_task(self._label(), total=total_bytes or None)

    def _label(self) -> str:
        return f"{self._verb} {self._done}/{self._files}"

    def advance(self, nbytes: int) -> None:
        self._progress.advance(self._task, nbytes)

    def file_done(self) -> None:
        with self._lock:
            self._done += 1
            label = self._label()
        self._progress.update(self._task, description=label)

    def __enter__(self) -> Bar:
        self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._progress.stop()


def reporter(verb: str, total_files: int, total_bytes: int | None, *, enabled: bool) -> Reporter:
    """A `Bar` when *enabled* and stderr is a terminal, else `Silent`."""
    if enabled and sys.stderr.isatty():
        return Bar(verb, total_files, total_bytes)
    return Silent()
