"""Fault plans: which request gets which fault.

A `Fault` pairs a `Match` (which requests it is about) with a count window (``skip`` the
first matching requests, then fire ``times`` times) and an optional ``probability`` drawn
from the proxy's seeded RNG, so a random plan replays identically for the same request
sequence. The `Schedule` offers each request to its faults in the order they were added;
the first one that claims it wins, and a request claimed by one fault is not counted by
the faults after it. So ``add(A, times=1); add(B, times=1)`` on the same match gives the
first request A and the second B, which is how a test scripts "503, then a reset".
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypedDict, Unpack
from urllib.parse import parse_qsl


class FaultKind(StrEnum):
    """What the proxy does to a claimed request (the value names it in logs and stats)."""

    STATUS = "status"  # answer with an error status; upstream is not contacted (unless forward)
    RESET = "reset"  # read the request, then RST the client; upstream is not contacted
    RESET_MID_UPLOAD = "reset_mid_upload"  # pass N request-body bytes upstream, then RST both
    DROP_RESPONSE = "drop_response"  # the request lands upstream; the client gets an RST
    RESET_MID_BODY = "reset_mid_body"  # relay N response-body bytes, then RST
    TRUNCATE = "truncate"  # relay N response-body bytes, then a clean close (FIN)
    STALL = "stall"  # relay N response-body bytes, pause, then carry on
    DELAY = "delay"  # wait before forwarding the request


_DFS_MARKERS = ("resource", "action", "recursive", "continuation", "mode")


@dataclass(frozen=True)
class RequestInfo:
    """What a matcher sees of a request (the head only; the body is streamed later)."""

    method: str
    path: str  # raw, still percent-encoded, account segment included
    query: str  # raw query string without the "?"
    headers: Mapping[str, str]  # lower-case names

    @property
    def params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True))

    @property
    def is_dfs(self) -> bool:
        """A DFS (Data Lake) request, by the same markers the SDKs use; else Blob."""
        params = self.params
        if "x-ms-rename-source" in self.headers or any(k in params for k in _DFS_MARKERS):
            return True
        if "comp" in params or "x-ms-copy-source" in self.headers:
            return False
        return self.headers.get("accept", "").startswith("application/json")


@dataclass(frozen=True)
class Match:
    """Which requests a fault is about; every given criterion must hold.

    ``path`` is a regex searched in the raw path; ``query`` is a substring of the raw
    query (or several, all required), e.g. ``"comp=block"``; ``header`` is
    ``(name, regex)`` and fails when the header is absent; ``predicate`` is the escape hatch.
    """

    method: str | tuple[str, ...] | None = None
    path: str | None = None
    query: str | tuple[str, ...] | None = None
    header: tuple[str, str] | None = None
    predicate: Callable[[RequestInfo], bool] | None = None

    def __call__(self, request: RequestInfo) -> bool:
        if self.method is not None:
            methods = (self.method,) if isinstance(self.method, str) else self.method
            if request.method.upper() not in {m.upper() for m in methods}:
                return False
        if self.path is not None and not re.search(self.path, request.path):
            return False
        if self.query is not None:
            parts = (self.query,) if isinstance(self.query, str) else self.query
            if not all(part in request.query for part in parts):
                return False
        if self.header is not None:
            value = request.headers.get(self.header[0].lower())
            if value is None or not re.search(self.header[1], value):
                return False
        return self.predicate is None or self.predicate(request)


ANY = Match()


class Window(TypedDict, total=False):
    """The options every `Fault` builder takes besides its own (see `Fault`)."""

    match: Match
    times: int | None
    skip: int
    probability: float


_DEFAULT_CODES = {
    408: "OperationTimedOut",
    429: "TooManyRequests",
    500: "InternalError",
    502: "BadGateway",
    503: "ServerBusy",
    504: "OperationTimedOut",
}


@dataclass
class Fault:
    """One planned fault. Build with the class methods; pass to `FaultProxy.add`.

    Window: the first ``skip`` matching requests pass untouched, then the fault fires on at
    most ``times`` of the following ones (``None``: on all). "The 2nd to 4th matching
    request" is ``skip=1, times=3``. With ``probability`` < 1 each request in the window is
    claimed with that chance (seeded RNG); a request not claimed does not use up ``times``.
    """

    kind: FaultKind
    match: Match = ANY
    times: int | None = 1
    skip: int = 0
    probability: float = 1.0
    http_status: int = 0
    error_code: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None  # None: an Azure-style XML (Blob) or JSON (DFS) error body
    forward: bool = False  # STATUS: let the request land upstream first
    after_bytes: int = 0
    seconds: float = 0.0
    # Counters, guarded by the schedule's lock.
    seen: int = field(default=0, compare=False)
    claimed: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if self.times is not None and self.times < 0:
            raise ValueError("times must be >= 0 or None")
        if self.skip < 0 or self.after_bytes < 0 or self.seconds < 0:
            raise ValueError("skip, after_bytes and seconds must be >= 0")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.claimed >= self.times

    # -- builders --------------------------------------------------------------------
    @classmethod
    def status(
        cls,
        status: int,
        *,
        error_code: str | None = None,
        retry_after: float | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        forward: bool = False,
        **window: Unpack[Window],
    ) -> Fault:
        """Answer *status* with ``x-ms-error-code`` and an Azure error body. The upstream
        is not contacted, unless *forward*: then the request lands and its answer is
        replaced (a write that succeeded but was reported as failed)."""
        extra = dict(headers or {})
        if retry_after is not None:
            extra["Retry-After"] = f"{retry_after:g}"
        code = error_code if error_code is not None else _DEFAULT_CODES.get(status, "Error")
        return cls._make(
            FaultKind.STATUS,
            window,
            http_status=status,
            error_code=code,
            headers=tuple(extra.items()),
            body=body,
            forward=forward,
        )

    @classmethod
    def reset(cls, **window: Unpack[Window]) -> Fault:
        """Read the whole request, then reset the connection (RST) without answering."""
        return cls._make(FaultKind.RESET, window)

    @classmethod
    def reset_mid_upload(cls, after_bytes: int, **window: Unpack[Window]) -> Fault:
        """Pass the head and *after_bytes* body bytes upstream, then RST client and upstream."""
        return cls._make(FaultKind.RESET_MID_UPLOAD, window, after_bytes=after_bytes)

    @classmethod
    def drop_response(cls, **window: Unpack[Window]) -> Fault:
        """Forward the request and read the whole answer (it landed), then RST the client."""
        return cls._make(FaultKind.DROP_RESPONSE, window)

    @classmethod
    def reset_mid_body(cls, after_bytes: int, **window: Unpack[Window]) -> Fault:
        """Relay the head and *after_bytes* body bytes of the answer, then RST."""
        return cls._make(FaultKind.RESET_MID_BODY, window, after_bytes=after_bytes)

    @classmethod
    def truncate(cls, after_bytes: int, **window: Unpack[Window]) -> Fault:
        """Relay *after_bytes* body bytes (fewer than Content-Length), then close cleanly."""
        return cls._make(FaultKind.TRUNCATE, window, after_bytes=after_bytes)

    @classmethod
    def stall(cls, after_bytes: int, seconds: float, **window: Unpack[Window]) -> Fault:
        """Relay *after_bytes* body bytes, send nothing for *seconds*, then carry on."""
        return cls._make(FaultKind.STALL, window, after_bytes=after_bytes, seconds=seconds)

    @classmethod
    def delay(cls, seconds: float, **window: Unpack[Window]) -> Fault:
        """Wait *seconds* before forwarding the request, then forward it normally."""
        return cls._make(FaultKind.DELAY, window, seconds=seconds)

    @classmethod
    def _make(cls, kind: FaultKind, window: Window, **params: Any) -> Fault:
        return cls(kind=kind, **window, **params)


class Schedule:
    """The ordered faults of one proxy; `claim` is called once per request, thread-safely."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._rng = random.Random(seed)

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def reseed(self, seed: int) -> None:
        with self._lock:
            self._rng.seed(seed)

    @property
    def pending(self) -> list[Fault]:
        """Faults that may still fire (``times`` not used up)."""
        with self._lock:
            return [f for f in self._faults if not f.exhausted]

    def claim(self, request: RequestInfo) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.exhausted or not fault.match(request):
                    continue
                fault.seen += 1
                if fault.seen <= fault.skip:
                    continue
                if fault.probability < 1.0 and self._rng.random() >= fault.probability:
                    continue
                fault.claimed += 1
                return fault
        return None
