"""SFTP-044..SFTP-049: copies and moves survive a dropped connection. A copy is settled and
sent again like a write; a move whose answer was lost is reconciled on a new connection
(landed, send again, or BackendUnavailable naming what is uncertain); a create-only
write whose claim lost an answer recognises the claim as its own. Each is tested through
the real sshd with the relay cut at the moment that matters (`lose_answer`)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from paramiko.sftp import (
    CMD_EXTENDED,
    CMD_FSETSTAT,
    CMD_OPEN,
    CMD_REMOVE,
    CMD_RENAME,
    CMD_STAT,
    CMD_WRITE,
)

from remote_store.backends.sftp import SFTPBackend
from remote_store.backends.sftp.files import LATE_CLAIM_SIZE
from remote_store.backends.sftp.upload import COPY_DATA, HARDLINK, POSIX_RENAME, TEMP_PREFIX
from remote_store.errors import AlreadyExists, BackendUnavailable
from tests.sftp.conftest import extended, lose_answer, sent_since, sent_so_far, through
from tests.sftp.relay import Relay
from tests.sftp_support import Sshd, run_sshd

pytestmark = pytest.mark.sftp

MIB = 1024 * 1024
#: Content large enough for a create-only write to claim its name first (SFTP-050).
CLAIMED = b"m" * (LATE_CLAIM_SIZE + 1)


def _base(backend: SFTPBackend) -> Path:
    return Path(backend.resolve("").details["path"])


def _on_disk(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def cut(sshd: Sshd, relay: Relay) -> Iterator[SFTPBackend]:
    """A backend on the real sshd through a relay the test can cut."""
    backend = sshd.backend(**through(sshd, relay))
    yield backend
    backend.close()


# ---------------------------------------------------------------- copy


@pytest.mark.parametrize("overwrite", [False, True])
def test_copy_is_sent_again_after_its_copy_data_answer_was_lost(
    cut: SFTPBackend, relay: Relay, monkeypatch: pytest.MonkeyPatch, overwrite: bool
) -> None:
    """SFTP-044: the server performed copy-data into the temporary file, and the link
    dropped before its answer: on a new connection the temporary file (and the claim)
    are removed and the copy is sent again; it returns, the destination holds the
    source's bytes, and nothing else is left."""
    body = bytes(range(256)) * (4 * MIB // 256)
    cut.write("src.bin", body)
    if overwrite:
        cut.write("dst.bin", b"old")
    hit = lose_answer(monkeypatch, relay, extended(COPY_DATA))
    cut.copy("src.bin", "dst.bin", overwrite=overwrite)
    assert hit and relay.accepted == 2
    assert cut.read_bytes("dst.bin") == body
    assert _on_disk(_base(cut)) == ["dst.bin", "src.bin"]


def test_streamed_copy_is_sent_again_after_a_cut(cut: SFTPBackend, relay: Relay) -> None:
    """SFTP-044: without copy-data the bytes stream through the client; the link drops
    after 2 MiB of an 8 MiB copy: the copy is sent again on a new connection and
    returns, with nothing but the source and the whole destination left."""
    cut._pool.withhold(COPY_DATA)
    body = bytes(range(256)) * (8 * MIB // 256)
    cut.write("src.bin", body)
    relay.cut_after(2 * MIB)
    cut.copy("src.bin", "dir/dst.bin")
    assert relay.accepted == 2
    assert cut.read_bytes("dir/dst.bin") == body
    assert _on_disk(_base(cut)) == ["dir/dst.bin", "src.bin"]


def test_a_copy_whose_rename_landed_before_the_drop_returns(
    cut: SFTPBackend, relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SFTP-044: the posix-rename that puts the copy in place was performed, its answer
    lost: on a new connection the temporary file is gone, so the copy landed; it returns
    without copying again, and the claim was not mistaken for a leftover."""
    cut.write("src.bin", b"c" * MIB)
    hit = lose_answer(monkeypatch, relay, extended(POSIX_RENAME))
    before = sent_so_far(cut)
    cut.copy("src.bin", "dst.bin")
    sent = sent_since(cut, before)
    assert hit and relay.accepted == 2
    assert sent[CMD_WRITE] == 0
    assert sent[CMD_EXTENDED] == 3  # the claim's hardlink, copy-data, posix-rename: once
    assert cut.read_bytes("dst.bin") == b"c" * MIB
    assert _on_disk(_base(cut)) == ["dst.bin", "src.bin"]


def test_a_copy_that_keeps_failing_leaves_nothing(sshd: Sshd, relay: Relay) -> None:
    """SFTP-044: every attempt's link is cut mid-copy: BackendUnavailable once the retry
    policy (2 attempts) is spent; once the next call has connected, neither the claim
    nor a temporary file is left, and the name takes a copy."""
    backend = sshd.backend(**through(sshd, relay), retry={"attempts": 2})
    backend._pool.withhold(COPY_DATA)
    try:
        backend.write("src.bin", b"s" * (4 * MIB))
        relay.cut_after(MIB)
        real = relay.cut

        def cut_again() -> None:
            real()
            relay.cut_after(MIB)

        relay.cut = cut_again  # type: ignore[method-assign]
        with pytest.raises(BackendUnavailable):
            backend.copy("src.bin", "dst.bin")
        relay.cut = real  # type: ignore[method-assign]
        relay.cut_after(1 << 40)
        # What a cleanup could not reach yet (SFTP-036) goes with the next call.
        assert backend.exists("src.bin")
        assert _on_disk(_base(backend)) == ["src.bin"]
        backend.copy("src.bin", "dst.bin")  # the name is free: no claim was left
        assert backend.read_bytes("dst.bin") == b"s" * (4 * MIB)
    finally:
        backend.close()


# ---------------------------------------------------------------- move


def _rename(overwrite: bool) -> Callable[[int, tuple[Any, ...]], bool]:
    """The request that moves: posix-rename when replacing, else the create-only RENAME."""
    return extended(POSIX_RENAME) if overwrite else (lambda t, args: t == CMD_RENAME)


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_move_whose_answer_was_lost_after_it_landed_returns(
    cut: SFTPBackend, relay: Relay, monkeypatch: pytest.MonkeyPatch, overwrite: bool
) -> None:
    """SFTP-045: the server performed the rename, the link dropped before its answer: on
    a new connection the source is gone and the destination is the source's file, so the
    move returns, without a second rename."""
    cut.write("src.bin", b"m" * MIB)
    if overwrite:
        cut.write("dir/dst.bin", b"old")
    at_the_drop: list[Counter[int]] = []
    hit = lose_answer(
        monkeypatch, relay, _rename(overwrite), then=lambda: at_the_drop.append(sent_so_far(cut))
    )
    cut.move("src.bin", "dir/dst.bin", overwrite=overwrite)
    sent = sent_since(cut, at_the_drop[0])
    assert hit and relay.accepted == 2
    assert sent[CMD_RENAME] == sent[CMD_EXTENDED] == 0  # not sent again
    assert sent[CMD_STAT] == 2  # the source and the destination, looked at again
    assert cut.read_bytes("dir/dst.bin") == b"m" * MIB
    assert _on_disk(_base(cut)) == ["dir/dst.bin"]


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_move_lost_before_the_server_got_it_is_sent_again(
    cut: SFTPBackend, relay: Relay, monkeypatch: pytest.MonkeyPatch, overwrite: bool
) -> None:
    """SFTP-045: the link dropped before the rename reached the server: on a new
    connection the source and the destination are as they were, so the rename is sent
    again, and the move returns."""
    cut.write("src.bin", b"n" * MIB)
    if overwrite:
        cut.write("dst.bin", b"old")
    hit = lose_answer(monkeypatch, relay, _rename(overwrite), performed=False)
    cut.move("src.bin", "dst.bin", overwrite=overwrite)
    assert hit and relay.accepted == 2
    assert cut.read_bytes("dst.bin") == b"n" * MIB
    assert _on_disk(_base(cut)) == ["dst.bin"]


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_move_that_cannot_be_told_raises_and_removes_nothing(
    cut: SFTPBackend, relay: Relay, monkeypatch: pytest.MonkeyPatch, overwrite: bool
) -> None:
    """SFTP-046: the rename landed, its answer was lost, and before the reconnect another
    client wrote a new file at the source's name. Sending the rename again would replace
    the moved file (its only copy) with the newcomer, so the move raises
    BackendUnavailable, not retryable, naming both states; both files stay whole."""
    base = _base(cut)
    cut.write("src.bin", b"first" * 1000)
    if overwrite:
        cut.write("dst.bin", b"old")

    hit = lose_answer(
        monkeypatch,
        relay,
        _rename(overwrite),
        then=lambda: (base / "src.bin").write_bytes(b"second"),
    )
    with pytest.raises(BackendUnavailable) as caught:
        cut.move("src.bin", "dst.bin", overwrite=overwrite)
    assert hit and not caught.value.retryable
    message = str(caught.value)
    assert "cannot be told" in message and "source is a file of 6 bytes" in message
    assert "destination is a file of 5000 bytes" in message
    assert cut.read_bytes("dst.bin") == b"first" * 1000
    assert cut.read_bytes("src.bin") == b"second"
    assert _on_disk(base) == ["dst.bin", "src.bin"]


def test_a_move_between_files_that_look_alike_is_not_guessed(
    cut: SFTPBackend, relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SFTP-046: the source and the destination had the same size and mtime (what SFTP v3
    shows of a file), and the replacing rename's answer was lost before it reached the
    server. Had it landed, a newcomer of that same look at the source would look the same,
    so the move is not guessed at: BackendUnavailable, not retryable; both files stay."""
    base = _base(cut)
    cut.write("src.bin", b"12345")
    cut.write("dst.bin", b"abcde")
    for name in ("src.bin", "dst.bin"):
        os.utime(base / name, (1_700_000_000, 1_700_000_000))
    hit = lose_answer(monkeypatch, relay, extended(POSIX_RENAME), performed=False)
    with pytest.raises(BackendUnavailable) as caught:
        cut.move("src.bin", "dst.bin", overwrite=True)
    assert hit and not caught.value.retryable
    assert cut.read_bytes("src.bin") == b"12345" and cut.read_bytes("dst.bin") == b"abcde"


@pytest.mark.parametrize("performed", [False, True])
def test_without_posix_rename_a_lost_replace_step_is_settled(
    cut: SFTPBackend, relay: Relay, monkeypatch: pytest.MonkeyPatch, performed: bool
) -> None:
    """SFTP-047: without posix-rename a replacing move goes in steps; the answer to the
    RENAME that moves the old file aside is lost (after or before the server did it).
    On a new connection the old file is put back from its hidden name, the move is
    reconciled and sent again: it returns, and no hidden file is left."""
    cut._pool.withhold(POSIX_RENAME)
    cut.write("src.bin", b"new!")  # not the old file's size: the two can be told apart
    cut.write("dst.bin", b"old")
    dst = cut._files.path("dst.bin")
    hit = lose_answer(
        monkeypatch,
        relay,
        lambda t, args: t == CMD_RENAME and args[0] == dst.encode(),
        performed=performed,
    )
    cut.move("src.bin", "dst.bin", overwrite=True)
    assert hit and relay.accepted == 2
    assert cut.read_bytes("dst.bin") == b"new!"
    assert _on_disk(_base(cut)) == ["dst.bin"]


# ---------------------------------------------------------------- the claim's own requests


def _claim_request(kind: str, backend: SFTPBackend) -> Callable[[int, tuple[Any, ...]], bool]:
    """The claim's OPEN of its hidden file, its FSETSTAT (the marker), or its hardlink."""
    if kind == "open":
        # The first exclusive OPEN of a hidden name in a write is the claim's.
        return lambda t, args: t == CMD_OPEN and TEMP_PREFIX.encode() in args[0]
    if kind == "fsetstat":
        return lambda t, args: t == CMD_FSETSTAT
    return extended(HARDLINK)


@pytest.mark.parametrize("performed", [True, False])
@pytest.mark.parametrize("kind", ["open", "fsetstat", "hardlink"])
def test_a_claim_whose_answer_was_lost_is_recognised_as_this_calls_own(
    cut: SFTPBackend,
    relay: Relay,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    performed: bool,
) -> None:
    """SFTP-048: the link drops at the claim's own OPEN, FSETSTAT or hardlink, after the
    server did it or before it got it. The claim is made on a hidden name of this call's
    and marked before it is linked to the name, so on a new connection whatever of it
    exists is recognised as this write's and removed, and the write sent again returns
    (it does not meet its own claim as AlreadyExists); nothing else is left."""
    cut.write("warm.txt", b"w")
    hit = lose_answer(monkeypatch, relay, _claim_request(kind, cut), performed=performed)
    result = cut.write("dir/new.bin", b"n" * MIB)
    assert hit and relay.accepted == 2 and result.size == MIB
    assert cut.read_bytes("dir/new.bin") == b"n" * MIB
    assert _on_disk(_base(cut)) == ["dir/new.bin", "warm.txt"]


def test_another_writers_claim_is_not_taken_for_ours(
    cut: SFTPBackend, relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SFTP-048: another writer's empty file (unmarked, as a claim in progress looks) has
    the name; the server refuses our claim's hardlink and that answer is lost with the
    link. On the new connection the other file is not taken for our claim: it stays, our
    hidden file goes, and the write sent again raises AlreadyExists."""
    base = _base(cut)
    cut.write("warm.txt", b"w")
    (base / "taken.bin").write_bytes(b"")
    hit = lose_answer(monkeypatch, relay, extended(HARDLINK), refused=True)
    with pytest.raises(AlreadyExists):
        cut.write("taken.bin", CLAIMED)
    assert hit and relay.accepted == 2
    assert (base / "taken.bin").read_bytes() == b""
    assert _on_disk(base) == ["taken.bin", "warm.txt"]


def test_without_hardlink_a_claim_lost_before_its_marker_stays(
    cut: SFTPBackend, relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SFTP-049 (the known limit): a server without hardlink@openssh.com gets the claim by
    the exclusive OPEN of the name itself. If that OPEN's answer is lost, the empty file
    it made carries no marker and cannot be told from another writer's: it is left, and
    the write sent again raises AlreadyExists. No content is lost or left."""
    cut._pool.withhold(HARDLINK)
    cut.write("warm.txt", b"w")
    target = cut._files.path("new.bin").encode()
    hit = lose_answer(monkeypatch, relay, lambda t, args: t == CMD_OPEN and args[0] == target)
    with pytest.raises(AlreadyExists):
        cut.write("new.bin", CLAIMED)
    assert hit and relay.accepted == 2
    assert (_base(cut) / "new.bin").read_bytes() == b""
    assert _on_disk(_base(cut)) == ["new.bin", "warm.txt"]


def test_a_server_without_hardlink_gets_the_claim_in_place(tmp_path: Path) -> None:
    """SFTP-049: an sshd whose sftp-server does not offer hardlink@openssh.com (``-P
    hardlink``: it neither announces nor serves it): a create-only write claims the name
    by the exclusive OPEN of the name itself (OPEN, FSETSTAT, CLOSE; no link, no REMOVE)
    and succeeds; a second one raises AlreadyExists; no hidden file is left."""
    with run_sshd(tmp_path / "sshd", sftp_flags="-P hardlink") as server:
        backend = server.backend()
        try:
            backend.write("warm.txt", b"w")
            assert HARDLINK not in (backend._pool.extensions or {})
            before = sent_so_far(backend)
            backend.write("a.txt", CLAIMED)
            sent = sent_since(backend, before)
            assert sent[CMD_EXTENDED] == 1  # the posix-rename over the claim
            assert sent[CMD_OPEN] == 2 and sent[CMD_FSETSTAT] == 1 and sent[CMD_REMOVE] == 0
            with pytest.raises(AlreadyExists):
                backend.write("a.txt", b"again")
            assert backend.read_bytes("a.txt") == CLAIMED
            assert _on_disk(_base(backend)) == ["a.txt", "warm.txt"]
        finally:
            backend.close()
