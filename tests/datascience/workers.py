"""Functions a spawned worker process runs: importable, so a spawn pool can find them."""

from __future__ import annotations

import os
import pickle
from typing import Any

from remote_store.registry import Registry
from remote_store.store import Store


def read_in_worker(payload: bytes, path: str, env: dict[str, str]) -> tuple[str, bytes]:
    """Unpickle a Store in this process (after setting *env*), read *path* with it, and
    report what the store looked like before its first call."""
    os.environ.update(env)
    store = pickle.loads(payload)
    assert isinstance(store, Store)
    before = repr(store)
    return before, store.read_bytes(path)


def write_in_worker(payload: bytes, path: str, data: bytes, env: dict[str, str]) -> None:
    os.environ.update(env)
    store = pickle.loads(payload)
    store.write(path, data, overwrite=True)


def registry_read(payload: bytes, store: str, path: str, env: dict[str, str]) -> bytes:
    os.environ.update(env)
    registry = pickle.loads(payload)
    assert isinstance(registry, Registry)
    return registry.get_store(store).read_bytes(path)


def unpickle_error(payload: bytes, env: dict[str, str]) -> str:
    """The type and message of the error unpickling raises here, or '' if none."""
    for name in env:
        os.environ.pop(name, None)
    try:
        pickle.loads(payload)
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return ""


def fs_cat(payload: bytes, path: str, env: dict[str, str]) -> bytes:
    """Unpickle an fsspec filesystem here and read *path* through it."""
    os.environ.update(env)
    fs = pickle.loads(payload)
    data: bytes = fs.cat_file(path)
    return data


def backend_read(payload: bytes, path: str, env: dict[str, str]) -> bytes:
    """Unpickle a backend here (after setting *env*) and read *path* through a Store on it."""
    os.environ.update(env)
    backend = pickle.loads(payload)
    with Store(backend) as store:
        return store.read_bytes(path)


#: The statements SQLAlchemy engines of this process sent since `record_statements`.
STATEMENTS: list[str] = []


def _record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
    STATEMENTS.append(statement)


def record_statements() -> None:
    """Record every statement any SQLAlchemy engine of this process sends from now on
    (engines a worker builds later included)."""
    import sqlalchemy as sa

    if not sa.event.contains(sa.engine.Engine, "before_cursor_execute", _record):
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", _record)
    STATEMENTS.clear()


def recorded_statements() -> list[str]:
    return list(STATEMENTS)


def stop_recording() -> None:
    import sqlalchemy as sa

    if sa.event.contains(sa.engine.Engine, "before_cursor_execute", _record):
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", _record)
    STATEMENTS.clear()
