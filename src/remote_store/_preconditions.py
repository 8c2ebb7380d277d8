"""What a Store checks before a write, delete, move or copy reaches the backend: the
types of the options, the capabilities they need, and the etag a no-op move must match."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from remote_store.backend import Backend
from remote_store.capabilities import Capability
from remote_store.errors import InvalidArgument, PreconditionFailed

METADATA_KEY_LIMIT = 256

Require = Callable[[Capability], None]


def check_if_match(if_match: object, require: Require) -> None:
    """An etag must be a non-empty str, and the backend must declare CONDITIONAL_WRITE."""
    if if_match is None:
        return
    require(Capability.CONDITIONAL_WRITE)
    if not isinstance(if_match, str) or not if_match or if_match != if_match.strip():
        raise InvalidArgument(f"if_match must be an etag (non-empty str), got {if_match!r}")


def check_write_options(
    overwrite: object, metadata: object, if_match: object, require: Require
) -> None:
    if not isinstance(overwrite, bool):
        raise InvalidArgument(f"overwrite must be a bool, got {type(overwrite).__name__}")
    check_if_match(if_match, require)
    if if_match is not None and not overwrite:
        raise InvalidArgument(
            "if_match replaces an existing file: pass overwrite=True with it "
            "(overwrite=False asks for the file not to exist)"
        )
    if metadata is None:
        return
    require(Capability.USER_METADATA)
    if not isinstance(metadata, Mapping):
        raise InvalidArgument(f"metadata must be a mapping, got {type(metadata).__name__}")
    for name, value in metadata.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise InvalidArgument("metadata keys and values must be str")
        if not name or len(name) > METADATA_KEY_LIMIT:
            raise InvalidArgument(
                f"metadata key {name[:40]!r} must be 1 to {METADATA_KEY_LIMIT} characters"
            )


def same_file(backend: Backend, src_key: str, dst_key: str, if_match: str | None = None) -> bool:
    """A move or copy onto itself is a no-op once *src* is known to be a file (with the
    etag *if_match*, when given)."""
    if src_key != dst_key:
        return False
    info = backend.get_file_info(src_key)
    if if_match is not None and info.etag != if_match:
        raise PreconditionFailed(
            f"{src_key!r} changed: etag {info.etag!r}, expected {if_match!r}",
            path=src_key,
            backend=backend.name,
        )
    return True
