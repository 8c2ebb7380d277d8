"""RemotePath: a store path as a value, normalised by the same rules every call applies."""

from __future__ import annotations

from typing import final

from remote_store import paths


@final
class RemotePath(str):
    """An immutable, normalised store path (``RemotePath("a//b/./c.csv") == "a/b/c.csv"``).

    It is a `str`, so it goes wherever a path does; ``/`` joins, and `name`, `parent`,
    `parts`, `suffix` and `stem` take it apart. Invalid input raises `InvalidPath`, as
    every call does. ``RemotePath("")`` is the root.
    """

    __slots__ = ()

    def __new__(cls, path: object = "") -> RemotePath:
        if type(path) is RemotePath:
            return path
        return super().__new__(cls, paths.normalize(path))

    def __repr__(self) -> str:
        return f"RemotePath({str.__repr__(self)})"

    def __truediv__(self, other: object) -> RemotePath:
        if not isinstance(other, str):
            return NotImplemented
        return RemotePath(paths.join(self, paths.normalize(other)))

    def __rtruediv__(self, other: object) -> RemotePath:
        if not isinstance(other, str):
            return NotImplemented
        return RemotePath(paths.join(paths.normalize(other), self))

    @property
    def name(self) -> str:
        """The last segment ('' for the root)."""
        return self.rpartition("/")[2]

    @property
    def parent(self) -> RemotePath:
        """The folder holding this path (the root is its own parent)."""
        return RemotePath(paths.parent(self))

    @property
    def parts(self) -> tuple[str, ...]:
        """The segments, root first (``()`` for the root)."""
        return tuple(self.split("/")) if self else ()

    @property
    def suffix(self) -> str:
        """The name's last extension with its dot (``".gz"`` for ``a.csv.gz``), or ''."""
        name = self.name
        dot = name.rfind(".")
        return name[dot:] if 0 < dot < len(name) - 1 else ""

    @property
    def stem(self) -> str:
        """The name without its `suffix`."""
        suffix = self.suffix
        return self.name[: -len(suffix)] if suffix else self.name
