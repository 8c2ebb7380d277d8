"""A fault-injecting HTTP proxy for the tests: see README.md."""

from __future__ import annotations

from .proxy import FaultProxy, Stats
from .relay import Exchange
from .schedule import Fault, FaultKind, Match, RequestInfo

__all__ = ["Exchange", "Fault", "FaultKind", "FaultProxy", "Match", "RequestInfo", "Stats"]
