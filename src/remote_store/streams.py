"""Helpers for the content a write accepts (bytes-like or a readable binary stream) and
the sinks `read_to` writes into."""

from __future__ import annotations

import io
import selectors
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, Protocol, TypeAlias, cast

from remote_store.errors import InvalidArgument

WritableContent: TypeAlias = bytes | bytearray | memoryview | BinaryIO

DEFAULT_CHUNK_SIZE = 1024 * 1024


class Sink(Protocol):
    """Where `read_to` writes: a binary file object, or anything with ``write(bytes)``.

    As with `io.RawIOBase.write`, the data passed is valid only during the call: a sink
    that keeps it must copy it (``bytes(data)``)."""

    def write(self, data: memoryview, /) -> object: ...


def check_content(content: object) -> None:
    """Raise `InvalidArgument` unless *content* is bytes-like or a readable binary stream."""
    if isinstance(content, bytes | bytearray | memoryview):
        return
    if isinstance(content, str):
        raise InvalidArgument(
            "content must be bytes or a binary stream, got str; use write_text() for text"
        )
    if isinstance(content, io.TextIOBase):
        raise InvalidArgument("content must be a binary stream, got a text stream")
    if not callable(getattr(content, "read", None)):
        raise InvalidArgument(
            f"content must be bytes or a binary stream, got {type(content).__name__}"
        )


def iter_chunks(content: WritableContent, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
    """Yield *content* in chunks of at most *chunk_size* bytes without holding it all."""
    if isinstance(content, bytes | bytearray | memoryview):
        view = memoryview(content).cast("B")
        for start in range(0, len(view), chunk_size):
            yield bytes(view[start : start + chunk_size])
        return
    for chunk in read_chunks(content, chunk_size):
        yield bytes(chunk)


def read_chunks(stream: BinaryIO, chunk_size: int) -> Iterator[bytes]:
    """Yield what ``stream.read(chunk_size)`` returns, as it returns it (no copy), until
    it returns nothing; `InvalidArgument` if it returns something other than bytes.

    A non-blocking stream returns ``None`` when no data is there *yet*, which is not the
    end: with a file descriptor we wait until it is readable; without one we refuse
    (`InvalidArgument`), so that the write fails instead of storing a truncated file."""
    while True:
        chunk = read_some(stream, chunk_size)
        if not chunk:
            return
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise InvalidArgument(
                f"stream returned {type(chunk).__name__} from read(); expected bytes"
            )
        yield chunk


def read_some(stream: BinaryIO, size: int) -> bytes:
    """``stream.read(size)``, waiting while a non-blocking *stream* has no data yet."""
    while (chunk := stream.read(size)) is None:
        _wait_readable(stream)
    return chunk


class Blocking:
    """A source stream as the backends expect one: ``read`` never answers ``None`` (see
    `read_chunks`), and ``read()`` / ``read(-1)`` reads to the end, where a raw stream's
    would stop at the first "no data yet". Everything else is the stream's own."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def read(self, size: int | None = -1) -> bytes:
        if size is not None and size >= 0:
            return read_some(self._stream, size)
        return b"".join(read_chunks(self._stream, DEFAULT_CHUNK_SIZE))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def as_source(content: WritableContent) -> WritableContent:
    """*content* as the backends expect it: a memoryview that is not C-contiguous
    (``view[::2]``), which refuses to be sliced and cast, copied into bytes; a stream
    wrapped in `Blocking`."""
    if isinstance(content, memoryview) and not content.c_contiguous:
        return content.tobytes()
    if isinstance(content, bytes | bytearray | memoryview):
        return content
    return cast(BinaryIO, Blocking(content))


def _wait_readable(stream: BinaryIO) -> None:
    try:
        descriptor = stream.fileno()
    except (AttributeError, OSError, ValueError):
        raise InvalidArgument(
            "stream.read() returned None (a non-blocking stream with no data yet) and the "
            "stream has no file descriptor to wait on; pass a blocking stream"
        ) from None
    with selectors.DefaultSelector() as selector:
        selector.register(descriptor, selectors.EVENT_READ)
        selector.select()


def rewinder(body: object) -> Callable[[], bool]:
    """What puts *body* (a request's bytes or stream) back where it is now, before a
    request is sent again; it answers False when it cannot (a stream that does not seek)."""
    if body is None or not hasattr(body, "read"):
        return lambda: True
    stream = cast(Any, body)
    try:
        position: int | None = int(stream.tell())
    except (AttributeError, OSError, ValueError):
        position = None

    def rewind() -> bool:
        if position is None:
            return False
        try:
            stream.seek(position)
        except (AttributeError, OSError, ValueError):
            return False
        return True

    return rewind


def known_length(content: WritableContent) -> int | None:
    """The number of bytes *content* holds, when it can be told without reading it."""
    if isinstance(content, bytes | bytearray | memoryview):
        return memoryview(content).nbytes
    try:
        if content.seekable():
            position = content.tell()
            end = content.seek(0, io.SEEK_END)
            content.seek(position)
            return end - position
    except (AttributeError, OSError, ValueError):
        return None
    return None


def check_sink(sink: object) -> None:
    """Raise `InvalidArgument` unless *sink* can take binary writes."""
    if isinstance(sink, io.TextIOBase):
        raise InvalidArgument("sink must be a binary stream, got a text stream")
    if not callable(getattr(sink, "write", None)):
        raise InvalidArgument(f"sink must have a write() method, got {type(sink).__name__}")


def write_all(sink: Sink, data: memoryview) -> None:
    """Write all of *data* to *sink*. A raw stream may take part of a write and return the
    count; the rest is written again. A result that is not a count (a hand-written sink
    returning ``None``) means all of it was taken, as `shutil.copyfileobj` assumes."""
    while data:
        taken = sink.write(data)
        if not isinstance(taken, int) or taken >= len(data):
            return
        if taken <= 0:
            raise OSError(f"the sink took {taken} of {len(data)} bytes written to it")
        data = data[taken:]


def copy_stream(source: BinaryIO, sink: Sink, chunk_size: int = DEFAULT_CHUNK_SIZE) -> int:
    """Copy *source* from its position to EOF into *sink*; the number of bytes copied."""
    total = 0
    while chunk := source.read(chunk_size):
        write_all(sink, memoryview(chunk))
        total += len(chunk)
    return total


def seek_target(offset: int, whence: int, position: int, size: int) -> int:
    """The absolute position a ``seek(offset, whence)`` asks for, from *position* in a
    stream of *size* bytes; `InvalidArgument` for an unknown *whence* or a negative result."""
    if whence == io.SEEK_SET:
        target = offset
    elif whence == io.SEEK_CUR:
        target = position + offset
    elif whence == io.SEEK_END:
        target = size + offset
    else:
        raise InvalidArgument(f"invalid whence {whence!r}")
    if target < 0:
        raise InvalidArgument(f"negative seek position {target}")
    return target
