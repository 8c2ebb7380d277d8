"""Local disk errors onto the error model, by errno (never by message text)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from remote_store.backends._local_fs import Again, SpecialFile, Vanished
from remote_store.errors import InvalidPath, NotFound, RemoteStoreError, from_os_error


def map_os_error(exc: OSError, key: str) -> RemoteStoreError:
    """The error-model equivalent of *exc*, raised while working on *key* (one errno table
    for the whole library: `errors.from_os_error`)."""
    return from_os_error(exc, key, backend="local")


@contextlib.contextmanager
def os_errors(key: str) -> Iterator[None]:
    try:
        yield
    except RemoteStoreError:
        raise
    except OSError as exc:
        raise map_os_error(exc, key) from exc
    except SpecialFile as exc:
        raise NotFound(
            f"{key!r} is a FIFO, socket or device, not a regular file: never read", path=key
        ) from exc
    except Again as exc:
        raise InvalidPath(
            f"{key!r} kept being replaced by a symlink while opened", path=key
        ) from exc
    except Vanished as exc:
        raise NotFound(
            f"cannot write {key!r}: a folder on its way kept being deleted meanwhile", path=key
        ) from exc
