"""After a retry: was the conflict with our own first attempt?

A conditional request whose answer was lost (or replaced by an error status) may have
taken effect. The retry loop sends it again, and the second attempt then meets the first
one's effect: a create-only write finds the object existing, a compare-and-swap write
finds another version, a rename or a delete finds its source gone. Reporting that as a
failure would be a lie, so when the call retried such a request, one look at the service
decides whether what is there is what we sent. Without such a retry a conflict is real and
is reported as it is, at no extra request.

What to compare (size, digest, metadata, a copy's source, an ETag) is the backend's: it
knows what it sent and what its service records.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from remote_store.transfer.deadline import maybe_landed

T = TypeVar("T")

_log = logging.getLogger("remote_store.transfer")


def landed(check: Callable[[], T], what: str, log: logging.Logger = _log) -> T | None:
    """``check()`` if a request of the current call was retried after it may have landed,
    else ``None`` without calling it. *check* looks at the service and returns a true value
    (what the backend reports instead of the conflict) when the state there is our own
    first attempt's, a false one when the conflict is real. A reconciled conflict is
    logged at INFO on *log*, naming *what* (e.g. ``"write 'a/b'"``)."""
    if not maybe_landed():
        return None
    ours = check()
    if ours:
        log.info("%s: a retried request met its own first attempt; it landed", what)
    return ours
