"""What the kernel checks before a write, delete, move or copy reaches a hook: the types of
the options and the capabilities they need."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from remote_store.capabilities import Capability
from remote_store.errors import InvalidArgument

METADATA_KEY_LIMIT = 256

Require = Callable[[Capability], None]


def check_if_match(if_match: object, require: Require) -> None:
    """An etag must be a non-empty str, and the backend must declare CONDITIONAL_WRITE."""
    if if_match is None:
        return
    require(Capability.CONDITIONAL_WRITE)
    if not isinstance(if_match, str) or not if_match or if_match != if_match.strip():
        raise InvalidArgument(f"if_match must be an etag (non-empty str), got {if_match!r}")


def check_flag(name: str, value: object) -> None:
    """A flag must be a bool: ``recursive="no"`` is truthy, and must not delete a tree."""
    if not isinstance(value, bool):
        raise InvalidArgument(f"{name} must be a bool, got {type(value).__name__}")


def check_write_options(
    overwrite: object, metadata: object, if_match: object, require: Require
) -> None:
    check_flag("overwrite", overwrite)
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
