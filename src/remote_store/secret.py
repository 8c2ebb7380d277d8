"""Secret: a credential value that never shows itself."""

from __future__ import annotations

import hmac
from typing import Final, NoReturn, final

from remote_store.errors import InvalidArgument

MASK: Final = "**********"


@final
class Secret:
    """A credential that never shows itself: repr, str and format print ``**********``.

    `reveal` returns the value. Equality compares values (in constant time); a Secret
    never equals a plain str, so a comparison cannot be used to probe it.
    """

    __slots__ = ("_value",)
    _value: str

    def __new__(cls, value: str | Secret) -> Secret:
        if isinstance(value, Secret):
            return value  # immutable, so re-wrapping can hand back the same object
        if not isinstance(value, str):
            raise InvalidArgument(f"Secret wraps a str, got {type(value).__name__}")
        self = super().__new__(cls)
        object.__setattr__(self, "_value", value)
        return self

    def reveal(self) -> str:
        """The credential in clear. Pass it to the SDK; never log it."""
        return self._value

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("Secret is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("Secret is immutable")

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return format(MASK, spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> tuple[type[Secret], tuple[str]]:
        # Pickling keeps the value (a worker process needs it); only printing hides it.
        return (Secret, (self._value,))
