"""A move: one rename on the server, reconciled on a new connection when its answer was lost.

Before the rename the source and the destination are STATed together (one round trip); what
they were is kept while the rename may be in flight. If the connection drops before the
answer, the next attempt (`retry.Runner.replayable`, on a new connection) looks again:

- the source is gone and the destination is the source's file (size, mtime, mode, owner):
  the rename landed, the move is done;
- the source is still the same file and the destination as it was: it did not land, and
  the rename is sent again;
- anything else (another client changed one of them meanwhile, or the destination was
  already indistinguishable from the source): `BackendUnavailable`, not retryable, naming
  what is uncertain. Nothing is removed: sending the rename again could replace the only
  copy of the moved file with a newer file at the source's name.

Without posix-rename a replacing move goes in steps (`upload.replace_in_steps`); an old file
moved aside is put back, or removed if the move completed, before anything is compared
(`stage.settle`, or `stage.tidy` once the server is back).
"""

from __future__ import annotations

import logging
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime

from paramiko.message import Message
from paramiko.sftp import CMD_ATTRS, CMD_STAT, CMD_STATUS
from paramiko.sftp_attr import SFTPAttributes

from remote_store.backends.sftp import stage, upload
from remote_store.backends.sftp.pool import (
    SFTP_NO_SUCH_FILE,
    Pool,
    Session,
    StatusError,
    connection_failed,
)
from remote_store.backends.sftp.reader import _Answers
from remote_store.errors import BackendUnavailable, IsAFolder, NotFound

log = logging.getLogger("remote_store.sftp")

#: What a rename keeps of a file: size, mtime (whole seconds), mode, owner, group.
Print = tuple[int, int, int, int, int]


@dataclass
class Move:
    """One `move` call, across its attempts."""

    source: str
    target: str
    src: str
    dst: str
    overwrite: bool
    #: The source's and the destination's prints while a rename may be in flight.
    sent: tuple[Print, Print | None] | None = None
    aside: list[str] = field(default_factory=list)


def run(pool: Pool, session: Session, move: Move, wait: float) -> None:
    """One attempt: settle the previous one's lost answer, else STAT both and rename."""
    if move.sent is not None and _landed(session, move):
        return
    source, target = _stat_both(session, move.source, move.target)
    if source is None:
        raise NotFound(f"move {move.src!r}: no such file", path=move.src, backend="sftp")
    if source.st_mode is not None and stat.S_ISDIR(source.st_mode):
        raise IsAFolder(f"cannot move {move.src!r}: it is a folder", path=move.src)
    move.sent = (_print(source), None if target is None else _print(target))
    move.aside = []
    try:
        _rename(session, move)
    except BaseException as error:
        if connection_failed(error) or not session.is_usable():
            if move.aside:  # put back (or drop) the old file on a new connection
                attempt = stage.Attempt(move.target, move.dst, True, early=False)
                attempt.aside = move.aside
                stage.settle(pool, session, attempt, error, wait)
            raise
        move.sent = None  # the server answered: nothing to reconcile
        for old in move.aside:  # a replace without posix-rename: the old file goes back
            stage.restore(session, old, move.target)
        raise
    move.sent = None


def _rename(session: Session, move: Move) -> None:
    try:
        upload.place(
            session, move.source, move.target, move.dst, overwrite=move.overwrite, aside=move.aside
        )
    except StatusError as error:
        if error.code != SFTP_NO_SUCH_FILE:
            raise
        upload.make_folders(session, upload.parent(move.target), move.dst)
        upload.place(
            session, move.source, move.target, move.dst, overwrite=move.overwrite, aside=move.aside
        )


def _landed(session: Session, move: Move) -> bool:
    """After a lost answer: True if the rename landed; False if it surely did not (send
    it again); otherwise `BackendUnavailable` (not retryable)."""
    assert move.sent is not None
    before_source, before_target = move.sent
    source, target = _stat_both(session, move.source, move.target)
    move.sent = None
    now_source = None if source is None else _print(source)
    now_target = None if target is None else _print(target)
    if before_source != before_target:
        if now_source is None and now_target == before_source:
            log.info("SFTP: move of %r landed before the connection dropped", move.src)
            return True
        if now_source == before_source and now_target == before_target:
            return False
    raise BackendUnavailable(
        f"move {move.src!r} to {move.dst!r}: the connection dropped before the server "
        f"answered the rename, and on a new connection {_state(now_source, now_target)}"
        ": whether the move happened cannot be told, so it was not sent again and nothing "
        "was removed; check both names",
        path=move.src,
        backend="sftp",
        retryable=False,
    )


def _state(source: Print | None, target: Print | None) -> str:
    return f"the source is {_describe(source)} and the destination is {_describe(target)}"


def _describe(found: Print | None) -> str:
    if found is None:
        return "missing"
    when = datetime.fromtimestamp(found[1], tz=UTC).isoformat()
    return f"a file of {found[0]} bytes modified at {when}"


def _print(attrs: SFTPAttributes) -> Print:
    return (
        attrs.st_size or 0,
        int(attrs.st_mtime or 0),
        attrs.st_mode or 0,
        attrs.st_uid or 0,
        attrs.st_gid or 0,
    )


def _stat_both(session: Session, first: str, second: str) -> tuple[SFTPAttributes | None, ...]:
    """STAT of both paths in one round trip; None for a missing one."""
    answers = _Answers()
    requests = [session._async_request(answers, CMD_STAT, path) for path in (first, second)]
    got: list[SFTPAttributes | None] = []
    failed: StatusError | None = None
    for request in requests:
        while request not in answers.got:
            session._read_response()
        kind, msg = answers.got.pop(request)
        try:
            got.append(_attrs(session, kind, msg))
        except StatusError as error:
            failed = failed or error
            got.append(None)
    if failed is not None:
        raise failed
    return tuple(got)


def _attrs(session: Session, kind: int, msg: Message) -> SFTPAttributes | None:
    if kind == CMD_STATUS:
        try:
            session._convert_status(msg)
        except StatusError as error:
            if error.code == SFTP_NO_SUCH_FILE:
                return None
            raise
    if kind != CMD_ATTRS:
        raise EOFError("unexpected answer to STAT")
    return SFTPAttributes._from_msg(msg)  # type: ignore[attr-defined,no-any-return]  # no stub
