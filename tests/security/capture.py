"""Capture everything a user could see (logs, reprs, messages, tracebacks) and drive every
public `Store` operation through its success and failure paths."""

from __future__ import annotations

import io
import logging
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import quote, quote_plus

from remote_store.capabilities import Capability
from remote_store.store import Store

_LOGGERS = ("", "remote_store", "azure", "urllib3")
_FORMAT = logging.Formatter("%(name)s %(levelname)s %(message)s")


class Capture(logging.Handler):
    """A logging handler that also collects reprs, messages and tracebacks."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self.operations = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(_FORMAT.format(record))  # message, args and exc_info

    def add(self, value: object) -> None:
        self.texts.extend((repr(value), str(value)))

    def add_error(self, error: BaseException) -> None:
        self.add(error)
        # Formatted the way an uncaught error prints: with every __cause__/__context__.
        self.texts.append("".join(traceback.format_exception(error)))

    def hits(self, secrets: list[str]) -> list[tuple[str, str]]:
        """(secret form, text) pairs where a secret appears (`forms`)."""
        return [(f, t) for t in self.texts for f in forms(secrets) if f in t]

    def checks(self, secrets: list[str]) -> int:
        return len(self.texts) * len(forms(secrets))


def forms(secrets: list[str]) -> set[str]:
    """Each secret as is and URL-encoded; a single value (key, signature, client secret)
    also by its first 16 characters, so a truncated echo counts too."""
    found: set[str] = set()
    for secret in secrets:
        found |= {secret, quote(secret, safe=""), quote_plus(secret)}
        if not any(c in secret for c in "&;"):
            found.add(secret[:16])
    return found


@contextmanager
def capturing() -> Iterator[Capture]:
    """Every logger that matters at DEBUG, recorded into one `Capture`."""
    capture = Capture()
    saved = []
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level))
        logger.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(capture)
    try:
        yield capture
    finally:
        logging.getLogger().removeHandler(capture)
        for logger, level in saved:
            logger.setLevel(level)


def _operations(store: Store) -> list[tuple[str, Callable[[], object]]]:
    def open_atomic_ok() -> None:
        with store.open_atomic("d/atomic.bin", overwrite=True) as out:
            out.write(b"atomic")

    def open_atomic_fails() -> None:
        with store.open_atomic("d/atomic.bin", overwrite=True) as out:
            out.write(b"half")
            raise RuntimeError("inside the block")

    def stream() -> bytes:
        with store.read("a.txt") as handle:
            return handle.read()

    def seekable() -> bytes:
        with store.read_seekable("a.txt") as handle:
            handle.seek(1)
            return handle.read()

    def etag() -> str | None:
        return store.get_file_info("a.txt").etag

    return [
        ("write", lambda: store.write("a.txt", b"secret-free content")),
        ("write exists", lambda: store.write("a.txt", b"again")),
        ("write metadata", lambda: store.write("m.txt", b"m", metadata={"k": "v"})),
        ("write bad metadata", lambda: store.write("m2.txt", b"m", metadata={"1 bad": "v"})),
        ("write_text", lambda: store.write_text("d/t.txt", "text", overwrite=True)),
        ("write_atomic", lambda: store.write_atomic("d/w.bin", b"w", overwrite=True)),
        ("open_atomic", open_atomic_ok),
        ("open_atomic error", open_atomic_fails),
        ("if_match", lambda: store.write("a.txt", b"cas", overwrite=True, if_match=etag())),
        ("if_match stale", lambda: store.write("a.txt", b"x", overwrite=True, if_match="0x1")),
        ("read_bytes", lambda: store.read_bytes("a.txt")),
        ("read", stream),
        ("read_seekable", seekable),
        ("read_to", lambda: store.read_to("a.txt", io.BytesIO())),
        ("read_to missing", lambda: store.read_to("missing.txt", io.BytesIO())),
        ("read_text", lambda: store.read_text("a.txt")),
        ("read missing", lambda: store.read_bytes("missing.txt")),
        ("read folder", lambda: store.read_bytes("d")),
        ("get_file_info", lambda: store.get_file_info("a.txt")),
        ("head", lambda: store.head("a.txt")),
        ("head missing", lambda: store.head("missing.txt")),
        ("get_folder_info", lambda: store.get_folder_info("")),
        ("exists", lambda: store.exists("a.txt")),
        ("is_file", lambda: store.is_file("d")),
        ("is_folder", lambda: store.is_folder("d")),
        ("list_files", lambda: store.list_files("", recursive=True)),
        ("list_folders", lambda: store.list_folders("")),
        ("iter_children", lambda: store.iter_children("")),
        ("glob", lambda: store.glob("**/*.bin")),
        ("copy", lambda: store.copy("a.txt", "b.txt")),
        ("copy exists", lambda: store.copy("a.txt", "b.txt")),
        ("move", lambda: store.move("b.txt", "c.txt")),
        ("move missing", lambda: store.move("b.txt", "c.txt")),
        ("move if_match stale", lambda: store.move("c.txt", "e.txt", if_match="0x1")),
        ("delete if_match stale", lambda: store.delete("c.txt", if_match="0x1")),
        ("delete", lambda: store.delete("c.txt")),
        ("delete missing", lambda: store.delete("c.txt")),
        ("delete_folder not empty", lambda: store.delete_folder("d")),
        ("delete_folder", lambda: store.delete_folder("d", recursive=True)),
        ("invalid path", lambda: store.read_bytes("../escape")),
        ("child", lambda: store.child("d")),
        ("native_path", lambda: store.native_path("a.txt")),
        ("to_key", lambda: store.to_key(store.native_path("a.txt"))),
        ("to_key outside", lambda: store.to_key("/elsewhere/x")),
        ("resolve", lambda: store.resolve("a.txt")),
        ("supports", lambda: store.supports(Capability.CONDITIONAL_WRITE)),
        ("supports unknown", lambda: store.supports("teleport")),
        ("unwrap", lambda: store.unwrap(bytes)),
        ("capabilities", lambda: store.backend.capabilities),
        ("ping", store.ping),
        ("close", store.close),
        ("after close", lambda: store.read_bytes("a.txt")),
    ]


def drive(store: Store, capture: Capture) -> None:
    """Run every operation, recording results, errors and the store's own reprs."""
    capture.add(store)
    capture.add(store.backend)
    for _, operation in _operations(store):
        capture.operations += 1
        try:
            result = operation()
            if isinstance(result, Iterator):
                result = list(result)
            capture.add(result)
        except Exception as error:
            capture.add_error(error)
    capture.add(store)
    capture.add(store.backend)
