"""Read-ahead for `RangeReader`: the next ranges of a sequential read, loaded in a small
thread pool while the caller consumes the current one."""

from __future__ import annotations

import contextvars
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

#: The prefix of the pool's thread names when the caller names none.
THREAD_NAME = "read-ahead"


@dataclass(frozen=True)
class Pending(Generic[T]):
    """Bytes ``[start, end)`` being loaded."""

    start: int
    end: int
    future: Future[T]


class ReadAhead(Generic[T]):
    """Up to *depth* consecutive ranges, each loaded by ``load(offset, length)`` in a pool
    of *depth* + 1 threads, created on first use: the range the reader has taken and waits
    for still holds a thread while the next *depth* load (with *depth* threads, one fewer
    request was in flight than the reader's ``max_concurrency``). Their names start with
    *thread_name*.

    *load* must not hold the reader: a worker dropping the last reference to it would run
    its ``close()``, which joins the workers, in a worker."""

    def __init__(
        self, load: Callable[[int, int], T], depth: int, *, thread_name: str = THREAD_NAME
    ) -> None:
        self._load = load
        self._depth = depth
        self._thread_name = thread_name
        self._pending: deque[Pending[T]] = deque()
        self._pool: ThreadPoolExecutor | None = None

    def covers(self, offset: int) -> bool:
        """Whether *offset* is in a range already queued."""
        return bool(self._pending) and self._pending[0].start <= offset < self._pending[-1].end

    def take(self, offset: int) -> Pending[T] | None:
        """The queued range holding *offset*, removed from the queue (those before it are
        dropped); ``None``, and the queue emptied, when no range holds it."""
        while self._pending and self._pending[0].end <= offset:
            self._pending.popleft().future.cancel()
        if self._pending and self._pending[0].start <= offset:
            return self._pending.popleft()
        self.drop()
        return None

    def extend(self, start: int, stop: int, step: int) -> None:
        """Queue ranges of *step* bytes after the last queued one (or from *start*), never
        past *stop*, until *depth* are queued. Each runs in a copy of the caller's context,
        so it joins the caller's deadline, if one is open, as an inline request would."""
        at = self._pending[-1].end if self._pending else start
        while len(self._pending) < self._depth and at < stop:
            length = min(step, stop - at)
            context = contextvars.copy_context()
            future = self._executor().submit(context.run, self._load, at, length)
            self._pending.append(Pending(at, at + length, future))
            at += length

    def drop(self) -> None:
        """Forget every queued range: those not started are cancelled, the results of the
        others are discarded when they end."""
        while self._pending:
            self._pending.popleft().future.cancel()

    def close(self) -> None:
        """Cancel what has not started and wait for what has (no request after this)."""
        self.drop()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._depth + 1, thread_name_prefix=self._thread_name)
        return self._pool
