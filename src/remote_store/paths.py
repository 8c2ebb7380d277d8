"""Keys: one place that normalises, validates and confines them.

A key is a ``/``-separated path relative to a root, with no leading or trailing slash,
no empty, ``.`` or ``..`` segment. The empty key names the root itself.
"""

from __future__ import annotations

import unicodedata

from remote_store.errors import InvalidPath

MAX_KEY_LENGTH = 1024
MAX_SEGMENT_BYTES = 255


class _Canonical(str):
    """A key this module has already normalised: `normalize` takes it as it is, so a key
    a `Store` built is not validated a second time by the backend's kernel."""

    __slots__ = ()


def normalize(path: object, *, allow_root: bool = True) -> str:
    """Return the canonical key for *path*, or raise `InvalidPath` saying what is wrong.

    Leading, trailing and repeated slashes and ``.`` segments are dropped; ``..``, NUL,
    control characters and backslashes are refused rather than guessed at.
    """
    if type(path) is _Canonical:
        if not path and not allow_root:
            raise InvalidPath(
                "path '' names the store root; this operation needs a file path", path=""
            )
        return str.__str__(path)  # a plain str: the marker never reaches a backend's results
    if not isinstance(path, str):
        raise InvalidPath(f"path must be a str, got {type(path).__name__}")
    for char in path:
        if char == "\\":
            raise InvalidPath(
                f"path {_show(path)} contains a backslash; use '/' as the separator",
                path=path,
            )
        category = unicodedata.category(char)
        if category == "Cc":
            raise InvalidPath(f"path {_show(path)} contains a control character", path=path)
        if category == "Cs":
            raise InvalidPath(
                f"path {_show(path)} contains a lone surrogate ({char!r}): it is not valid "
                "Unicode text (a file name decoded with errors='surrogateescape'?)",
                path=path,
            )
    segments = [s for s in path.split("/") if s not in ("", ".")]
    if ".." in segments:
        raise InvalidPath(
            f"path {_show(path)} contains '..'; paths cannot leave the store root",
            path=path,
        )
    key = "/".join(segments)
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidPath(
            f"path is {len(key)} characters long; the limit is {MAX_KEY_LENGTH}",
            path=path,
        )
    for segment in segments:
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidPath(
                f"path segment {_show(segment)} is longer than {MAX_SEGMENT_BYTES} bytes",
                path=path,
            )
    if not key and not allow_root:
        raise InvalidPath(
            f"path {_show(path)} names the store root; this operation needs a file path",
            path=path,
        )
    return key


def is_canonical(path: object) -> bool:
    """Whether *path* is a key a `Store` built (`canonical`): its call was gated there."""
    return type(path) is _Canonical


def join(root: str, key: str) -> str:
    """Join two canonical keys."""
    if not root:
        return key
    if not key:
        return root
    return f"{root}/{key}"


def canonical(root: str, key: str) -> str:
    """`join` of two canonical keys, marked so that `normalize` trusts it."""
    return _Canonical(join(root, key))


def relative_to(root: str, key: str) -> str:
    """Strip *root* from the canonical *key*; raise `InvalidPath` if it lies outside."""
    if not root:
        return key
    if key == root:
        return ""
    if key.startswith(root + "/"):
        return key[len(root) + 1 :]
    raise InvalidPath(f"{key!r} is outside the store root {root!r}", path=key)


def parent(key: str) -> str:
    """The parent key ('' for a top-level key)."""
    return key.rpartition("/")[0]


def is_within(root: str, key: str) -> bool:
    """Whether *key* is *root* or below it."""
    return not root or key == root or key.startswith(root + "/")


def _show(text: str, limit: int = 80) -> str:
    """A safe, bounded rendering of user input for error messages."""
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 4] + "...'"
