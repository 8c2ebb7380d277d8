"""Capability flags: what a backend instance can do."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from remote_store.errors import CapabilityNotSupported


class Capability(StrEnum):
    """One thing a backend may be able to do.

    A capability is declared only when the backend honours it fully; the Store refuses
    gated calls on a backend that lacks the capability instead of emulating it badly.
    """

    READ = "read"
    WRITE = "write"
    DELETE = "delete"
    LIST = "list"
    MOVE = "move"
    COPY = "copy"
    ATOMIC_WRITE = "atomic_write"
    GLOB = "glob"
    RECURSIVE_LIST = "recursive_list"
    METADATA = "metadata"
    SEEKABLE_READ = "seekable_read"
    LAZY_READ = "lazy_read"
    ATOMIC_MOVE = "atomic_move"
    WRITE_RESULT_NATIVE = "write_result_native"
    USER_METADATA = "user_metadata"
    #: ``if_match=`` on write, write_atomic, open_atomic, delete and move (compare-and-swap).
    CONDITIONAL_WRITE = "conditional_write"

    def __str__(self) -> str:
        return self.name


class CapabilitySet(frozenset[Capability]):
    """An immutable set of capabilities with a gate that raises a typed error."""

    __slots__ = ()  # no instance attributes: setting one raises AttributeError

    def __new__(cls, capabilities: Iterable[Capability | str] = ()) -> CapabilitySet:
        return super().__new__(cls, (Capability(c) for c in capabilities))

    def supports(self, capability: Capability | str) -> bool:
        return Capability(capability) in self

    def require(self, capability: Capability, *, backend: str = "backend") -> None:
        """Raise `CapabilityNotSupported` naming *capability* unless it is in the set."""
        if capability not in self:
            raise CapabilityNotSupported(capability.name, backend=backend)

    # Set algebra keeps the type, so `caps - {Capability.X}` still has `require`.
    def __or__(self, other: Iterable[Capability]) -> CapabilitySet:  # type: ignore[override]
        return CapabilitySet(frozenset.__or__(self, frozenset(other)))

    def __and__(self, other: Iterable[Capability]) -> CapabilitySet:  # type: ignore[override]
        return CapabilitySet(frozenset.__and__(self, frozenset(other)))

    def __sub__(self, other: Iterable[Capability]) -> CapabilitySet:  # type: ignore[override]
        return CapabilitySet(frozenset.__sub__(self, frozenset(other)))

    # The named methods too: frozenset's would return a plain frozenset.
    def union(self, *others: Iterable[Capability]) -> CapabilitySet:  # type: ignore[override]
        return CapabilitySet(frozenset.union(self, *others))

    def intersection(self, *others: Iterable[Capability]) -> CapabilitySet:  # type: ignore[override]
        return CapabilitySet(frozenset.intersection(self, *others))

    def difference(self, *others: Iterable[Capability]) -> CapabilitySet:  # type: ignore[override]
        return CapabilitySet(frozenset.difference(self, *others))

    def symmetric_difference(self, other: Iterable[Capability]) -> CapabilitySet:  # type: ignore[override]
        return CapabilitySet(frozenset.symmetric_difference(self, other))

    def __xor__(self, other: Iterable[Capability]) -> CapabilitySet:  # type: ignore[override]
        return CapabilitySet(frozenset.__xor__(self, frozenset(other)))

    def copy(self) -> CapabilitySet:
        return self

    def __reduce__(self) -> tuple[type[CapabilitySet], tuple[list[str]]]:
        return (CapabilitySet, (sorted(c.value for c in self),))

    def __repr__(self) -> str:
        names = ", ".join(sorted(c.name for c in self))
        return f"CapabilitySet({{{names}}})"


ALL_CAPABILITIES = CapabilitySet(Capability)
