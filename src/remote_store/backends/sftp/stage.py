"""One staged write: the name claimed (create-only), the content in a hidden temporary file,
then one rename puts it in place; on failure nothing of it is left.

Create-only (``overwrite=False``) `write` and `copy` on a server with
``posix-rename@openssh.com``:

1. Claim the name before a byte of content is sent. With ``hardlink@openssh.com``
   (OpenSSH): a hidden file is created exclusively, its mtime set to a random marker, and
   it is hard-linked to the name (``link(2)`` refuses an existing name, atomically, on the
   server), its hidden name removed in the same round trip. Of concurrent writers exactly
   one links; the others get FAILURE (EEXIST) and raise `AlreadyExists` at once. Without
   the extension (or on a filesystem without hard links) the name itself is OPENed with
   CREAT|EXCL (paramiko's ``"wx"``) and then marked. The empty file at the name is the
   *claim*; its marker lets the cleanup recognise it as its own and never remove anything
   else.
2. The content goes to a temporary file beside it (exclusive, hidden from listings).
3. ``posix-rename`` the temporary file over the claim: the content appears whole.

Readers see no file, then an empty one (the claim, for the duration of the upload), then
the whole content; never part of it. `write_atomic` promises readers the old state or the
new one, and the claim is neither, so it does not claim: the create-only RENAME of the
temporary file decides, atomically, but only after the upload (`upload.place`); so does
every create-only write on a server without posix-rename (no atomic replace of a claim).

After a dropped connection the attempt is settled on a new connection: if the rename was
sent and the temporary file is gone, the rename landed and the write succeeded; otherwise
the temporary files and our claim are removed (best effort, logged), and the caller may
send the whole write again (`files.SftpFiles._write` does, for a replayable source). A
linked claim is marked before it reaches the name, so whichever answer was lost, the
claim is recognised; a claim OPENed in place and lost before its marker is not (the
retry then meets `AlreadyExists`: the spec's known limits).
"""

from __future__ import annotations

import logging
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass, field

from paramiko.sftp import CMD_EXTENDED, CMD_FSETSTAT, CMD_REMOVE, CMD_STATUS
from paramiko.sftp_attr import SFTPAttributes

from remote_store.backends.sftp import upload
from remote_store.backends.sftp.pool import (
    SFTP_FAILURE,
    SFTP_NO_SUCH_FILE,
    SFTP_OK,
    SFTP_OP_UNSUPPORTED,
    SFTP_PERMISSION_DENIED,
    Pool,
    Session,
    StatusError,
    connection_failed,
    until_settled,
)
from remote_store.backends.sftp.reader import _Answers
from remote_store.errors import AlreadyExists, BackendUnavailable, IsAFolder, RemoteStoreError

log = logging.getLogger("remote_store.sftp")

_CLAIM_TRIES = 3
#: Calls that try to remove a failed write's leftovers before the backend gives up on them.
_TIDY_TRIES = 5

#: Fills an open temporary file.
Fill = Callable[[upload.Writer], object]


@dataclass
class Attempt:
    """What one attempt put on the server, for the cleanup."""

    target: str
    key: str
    overwrite: bool
    early: bool = True  # claim the name before the upload (`write`; not `write_atomic`)
    temp: str = ""
    claim: int | None = None  # the claim's mtime marker, once the claim may exist
    claim_temp: str = ""  # the hidden file linked to the name as the claim
    committing: bool = False
    tidy_tries: int = 0
    aside: list[str] = field(default_factory=list)  # old files moved aside (no posix-rename)


def claims(session: Session, attempt: Attempt) -> bool:
    """Whether a write claims its name first: create-only, asked to decide early, and the
    claim can be replaced atomically."""
    return attempt.early and not attempt.overwrite and session.offers(upload.POSIX_RENAME)


def run(session: Session, attempt: Attempt, fill: Fill) -> SFTPAttributes:
    """Stage *attempt*'s write on *session*; on failure the caller runs `settle`."""
    target, key = attempt.target, attempt.key
    if claims(session, attempt):
        _claim(session, attempt)
    attempt.temp = upload.temp_beside(target)
    handle = upload.open_temp(session, attempt.temp, key)
    writer = upload.Writer(session, handle)
    try:
        fill(writer)
        attrs = writer.finish()
    finally:
        handle.close()
    attempt.committing = True
    if attempt.claim is not None:
        session.posix_rename(attempt.temp, target)
    else:
        upload.place(
            session, attempt.temp, target, key, overwrite=attempt.overwrite, aside=attempt.aside
        )
    return attrs


def _claim(session: Session, attempt: Attempt) -> None:
    """Claim the name: by linking a marked hidden file to it where the server offers
    ``hardlink@openssh.com`` (a claim that is recognisably this call's at every step),
    else by the exclusive OPEN of the name itself."""
    if not session.offers(upload.HARDLINK):
        _claim_in_place(session, attempt)
        return
    for _ in range(_CLAIM_TRIES):
        code = _link_claim(session, attempt)
        if code == SFTP_OK:
            return
        if code in (SFTP_PERMISSION_DENIED, SFTP_OP_UNSUPPORTED):
            # The OPEN beside it was allowed: this filesystem has no hard links (EPERM), or
            # the server refuses the extension (sftp-server -P). This session stops asking.
            session.extensions.pop(upload.HARDLINK, None)
            _claim_in_place(session, attempt)
            return
        # FAILURE (EEXIST, or a folder): the STAT is on the error path only, to say which.
        problem = upload.what_is_in_the_way(session, attempt.target, attempt.key, overwrite=False)
        if isinstance(problem, AlreadyExists | IsAFolder):
            raise problem
        # Gone again by the time we looked (deleted meanwhile): claim it again.
    raise RemoteStoreError(
        f"could not create {attempt.key!r}: it kept appearing and disappearing",
        path=attempt.key,
        backend="sftp",
    )


def _link_claim(session: Session, attempt: Attempt) -> int:
    """OPEN a hidden file exclusively; FSETSTAT its marker mtime with its CLOSE; then
    ``hardlink@openssh.com`` to the name (link(2): refuses an existing name, atomically)
    with the REMOVE of the hidden name: three round trips. The status of the link.

    The hidden name is this call's alone, and carries the marker before it is linked:
    whichever answer a dropped connection loses, `_settle` removes what is this call's
    (the hidden file; the name only while it is that marked empty file) and nothing else."""
    attempt.claim_temp = upload.temp_beside(attempt.target)
    handle = upload.open_temp(session, attempt.claim_temp, attempt.key)
    marker = 1_000_000 + secrets.randbelow(1 << 30)
    times = SFTPAttributes()
    times.st_atime = times.st_mtime = marker
    answers = _Answers()
    try:
        mark = session._async_request(answers, CMD_FSETSTAT, handle.handle, times)
    finally:
        handle.close()  # waits for the CLOSE, so the FSETSTAT's answer is in
    _status(session, answers, mark)
    attempt.claim = marker  # from here on the name may be ours
    link = session._async_request(
        answers, CMD_EXTENDED, upload.HARDLINK, attempt.claim_temp, attempt.target
    )
    unlink = session._async_request(answers, CMD_REMOVE, attempt.claim_temp)
    linked = _status(session, answers, link, raising=False)
    removed = _status(session, answers, unlink, raising=False)
    if removed not in (SFTP_OK, SFTP_NO_SUCH_FILE):
        raise StatusError(removed, "could not remove the claim's hidden name")
    attempt.claim_temp = ""
    if linked == SFTP_OK:
        return linked
    attempt.claim = None
    if linked not in (SFTP_FAILURE, SFTP_NO_SUCH_FILE, SFTP_PERMISSION_DENIED, SFTP_OP_UNSUPPORTED):
        raise StatusError(linked, "the server refused to link the claim")
    return linked


def _status(session: Session, answers: _Answers, request: int, *, raising: bool = True) -> int:
    while request not in answers.got:
        session._read_response()
    kind, msg = answers.got.pop(request)
    if kind != CMD_STATUS:
        raise EOFError("unexpected answer")
    code = msg.get_int()
    if code != SFTP_OK and raising:
        raise StatusError(code, msg.get_text())
    return int(code)


def _claim_in_place(session: Session, attempt: Attempt) -> None:
    """The exclusive OPEN of the name itself, then FSETSTAT of the marker: if the
    connection drops before those answers, the claim is left unmarked (`Known limits`)."""
    handle = None
    for _ in range(_CLAIM_TRIES):
        try:
            handle = session.open(attempt.target, "wx")
            break
        except StatusError as error:
            if error.code == SFTP_NO_SUCH_FILE:
                upload.make_folders(session, upload.parent(attempt.target), attempt.key)
                continue
            if error.code != SFTP_FAILURE:
                raise
        problem = upload.what_is_in_the_way(session, attempt.target, attempt.key, overwrite=False)
        if isinstance(problem, AlreadyExists | IsAFolder):
            raise problem
    if handle is None:
        raise RemoteStoreError(
            f"could not create {attempt.key!r}: it kept appearing and disappearing",
            path=attempt.key,
            backend="sftp",
        )
    marker = 1_000_000 + secrets.randbelow(1 << 30)
    attempt.claim = marker
    try:
        handle.utime((marker, marker))
    finally:
        handle.close()


def settle(
    pool: Pool, session: Session, attempt: Attempt, error: BaseException, wait: float
) -> SFTPAttributes | None:
    """After *error*: the attributes of a write that landed after all (its rename was sent
    before the connection dropped), else None once the attempt's leftovers are removed.
    What cannot be removed now (the server is gone) is left to `tidy`."""
    broken = connection_failed(error) or not session.is_usable()
    if broken:
        until_settled(session, failed=True)
    try:
        if not broken:
            return _settle(session, attempt, landed_check=False)
    except Exception as failure:
        _postpone(pool, attempt, failure)
        return None
    for tries_left in reversed(range(2)):
        # A second session, should the first be an idle one of the dead connection that
        # the pool handed out before the transport noticed.
        try:
            with pool.session(wait) as fresh:
                return _settle(fresh, attempt, landed_check=attempt.committing)
        except Exception as failure:
            # Not when connecting failed: the server is away, and a second connect would
            # only double the wait.
            stale = connection_failed(failure) and not isinstance(failure, BackendUnavailable)
            if tries_left and stale:
                continue
            _postpone(pool, attempt, failure)
            return None
    return None


def tidy(pool: Pool, session: Session) -> None:
    """Remove what earlier failed writes could not (their connection was gone), now that
    a connection works: best effort, logged."""
    while pool.leftovers:
        try:
            attempt = pool.leftovers.pop()
        except IndexError:
            return
        try:
            # Whether it landed no longer matters: the clean-up is right either way (the
            # claim and an old file moved aside are only removed while they are ours).
            _settle(session, attempt, landed_check=False)
        except Exception as failure:
            _postpone(pool, attempt, failure)
            return
        log.info("SFTP: removed what a failed write of %r left on the server", attempt.key)


def _postpone(pool: Pool, attempt: Attempt, failure: Exception) -> None:
    attempt.tidy_tries += 1
    left = [name for name in (attempt.temp, attempt.claim_temp, *attempt.aside) if name]
    claim = " and the empty file at its name" if attempt.claim is not None else ""
    if attempt.tidy_tries > _TIDY_TRIES:
        log.warning(
            "SFTP: giving up cleaning up after a failed write of %r (%s): remove %s%s by hand%s",
            attempt.key,
            type(failure).__name__,
            ", ".join(n for n in left if n not in attempt.aside) or "nothing hidden",
            claim,
            f"; the old file moved aside to {', '.join(attempt.aside)} belongs at that name"
            if attempt.aside
            else "",
        )
        return
    pool.leftovers.append(attempt)
    log.warning(
        "SFTP: could not yet clean up after a failed write of %r (%s); its hidden files "
        "%s%s are seen to after the next successful connection",
        attempt.key,
        type(failure).__name__,
        ", ".join(left) or "(none)",
        claim,
    )


def _settle(session: Session, attempt: Attempt, *, landed_check: bool) -> SFTPAttributes | None:
    if landed_check and attempt.temp and not _exists(session, attempt.temp):
        # The rename was sent, and the temporary file is gone: it landed.
        log.info("SFTP: write of %r landed before the connection dropped", attempt.key)
        return session.stat(attempt.target)
    for temp in (attempt.temp, attempt.claim_temp):
        if temp:
            _remove(session, temp)
    for aside in attempt.aside:
        restore(session, aside, attempt.target)
    if attempt.claim is not None:
        _unclaim(session, attempt)
    return None


def _unclaim(session: Session, attempt: Attempt) -> None:
    """Remove the claim if it is still ours: empty, a regular file, our marker mtime."""
    try:
        attrs = session.stat(attempt.target)
    except StatusError as error:
        if error.code == SFTP_NO_SUCH_FILE:
            return
        raise
    mine = (
        attrs.st_mode is not None
        and stat.S_ISREG(attrs.st_mode)
        and not attrs.st_size
        and int(attrs.st_mtime or 0) == attempt.claim
    )
    if mine:
        _remove(session, attempt.target)


def restore(session: Session, aside: str, target: str) -> None:
    """An old file moved aside by a replace without posix-rename goes back, unless a newer
    one took the name meanwhile (create-only RENAME), in which case it goes."""
    if not _exists(session, aside):
        return
    try:
        session.rename(aside, target)
    except StatusError as error:
        if error.code != SFTP_FAILURE:
            raise
        _remove(session, aside)


def _exists(session: Session, path: str) -> bool:
    try:
        session.lstat(path)
    except StatusError as error:
        if error.code == SFTP_NO_SUCH_FILE:
            return False
        raise
    return True


def _remove(session: Session, path: str) -> None:
    try:
        session.remove(path)
    except StatusError as error:
        if error.code != SFTP_NO_SUCH_FILE:
            raise
