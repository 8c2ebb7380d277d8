"""`Wire`: what the real SDK sends and receives, seen through its request and response
hooks: the ranged GETs, and how many requests are in flight at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

KiB = 1024
CHUNK = 256 * KiB  # the chunk and first-GET size `Wire.options` sets
WAIT = 30.0  # seconds a held request waits for its partner: a bound, never reached when OK


@dataclass(frozen=True)
class Get:
    """One Get Blob as the SDK sent it, and its answer."""

    start: int
    end: int  # inclusive
    status: int
    length: int  # Content-Length of the answer
    thread: str
    if_match: str | None


@dataclass
class Wire:
    """``raw_request_hook`` and ``raw_response_hook``: the ranged GETs, the most requests
    in flight at once, and hooks a test can use to act before a request goes out."""

    gets: list[Get] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    #: Hold the next request until this many are in flight (then stop holding).
    hold_until: int = 0
    #: Called with ``(start, thread name)`` before each ranged GET is sent.
    before_get: Callable[[int, str], None] | None = None
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def options(self, **extra: Any) -> dict[str, Any]:
        return {
            "max_chunk_get_size": CHUNK,
            "max_single_get_size": CHUNK,
            "raw_request_hook": self.on_request,
            "raw_response_hook": self.on_response,
            **extra,
        }

    def on_request(self, request: Any) -> None:
        http = request.http_request
        rng = http.headers.get("x-ms-range")
        if http.method == "GET" and rng and self.before_get is not None:
            self.before_get(_range(rng)[0], threading.current_thread().name)
        with self._cond:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self._cond.notify_all()
            if self.hold_until:
                wanted = self.hold_until
                self._cond.wait_for(lambda: self.in_flight >= wanted, timeout=WAIT)
                self.hold_until = 0

    def on_response(self, response: Any) -> None:
        http, answer = response.http_request, response.http_response
        rng = http.headers.get("x-ms-range")
        with self._cond:
            self.in_flight -= 1
            if http.method == "GET" and rng:
                start, end = _range(rng)
                self.gets.append(
                    Get(
                        start,
                        end,
                        answer.status_code,
                        int(answer.headers.get("Content-Length", 0)),
                        threading.current_thread().name,
                        http.headers.get("If-Match"),
                    )
                )
            self._cond.notify_all()

    def wait_for_get(self, start: int) -> None:
        """Until the answer to the GET from *start* has arrived."""
        with self._cond:
            self._cond.wait_for(lambda: any(g.start == start for g in self.gets), timeout=WAIT)

    def clear(self) -> None:
        with self._cond:
            self.gets.clear()
            self.max_in_flight = self.in_flight

    def ranges(self) -> list[tuple[int, int]]:
        return sorted((g.start, g.end) for g in self.gets)

    def moved(self) -> int:
        return sum(g.length for g in self.gets)


def _range(header: str) -> tuple[int, int]:
    first, last = header.removeprefix("bytes=").split("-")
    return int(first), int(last)
