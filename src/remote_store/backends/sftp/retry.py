"""Retries and deadlines for SFTP: the backend's adapter over
`remote_store.transfer.retrying` and `remote_store.transfer.deadline`.

What is retried: getting a session (connecting and authenticating send nothing that takes
effect), requests that are safe to repeat (stat, list, open for reading, mkdir, remove
with reconciliation), writes from a replayable source (bytes, or a seekable stream put
back where it started) and copies, whose failed attempt was settled first
(`stage.settle`), and moves, whose lost answer the next attempt reconciles (`move.run`).
Only a write from a stream that cannot be rewound runs once; if the connection fails the
caller gets `BackendUnavailable`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from remote_store.backends.sftp import stage
from remote_store.backends.sftp.errors import is_connection_error
from remote_store.backends.sftp.pool import Pool, Session, connection_failed
from remote_store.config import RetryPolicy
from remote_store.transfer.deadline import call_scope, current
from remote_store.transfer.retrying import Retry, call_with_retries

T = TypeVar("T")

__all__ = ["DEFAULT_RETRY", "Runner", "call_scope"]

#: 3 attempts, backoff from 0.1 s doubling to 2 s, and a 60 s deadline per call.
DEFAULT_RETRY = RetryPolicy(attempts=3, backoff_base=0.1, backoff_max=2.0, timeout=60.0)


def _classify(outcome: object) -> Retry | None:
    if isinstance(outcome, Exception) and is_connection_error(outcome):
        # The answer was lost with the connection: the request may have taken effect.
        return Retry(landed=True)
    return None


class Runner:
    """Runs requests on pooled sessions, within the current call's deadline."""

    def __init__(self, pool: Pool, policy: RetryPolicy, wait: float) -> None:
        self.pool = pool
        self.policy = policy
        self.wait = wait

    def _wait(self, remaining: float | None) -> float:
        return self.wait if remaining is None else max(min(self.wait, remaining), 0.0)

    def idempotent(self, request: Callable[[Session], T]) -> T:
        """``request(session)``, sent again on a fresh session if the connection fails."""

        def send(remaining: float | None) -> T:
            with self.pool.session(self._wait(remaining)) as session:
                self._tidy(session)
                return request(session)

        return call_with_retries(send, policy=self.policy, classify=_classify)

    def replayable(self, request: Callable[[Session], T], rewind: Callable[[], bool]) -> T:
        """``request(session)`` (a write that cleans up after itself, `stage.settle`), sent
        again on a fresh session if the connection fails, after ``rewind()``."""

        def send(remaining: float | None) -> T:
            with self.pool.session(self._wait(remaining)) as session:
                self._tidy(session)
                return request(session)

        def classify(outcome: object) -> Retry | None:
            # settle already looked: a write that landed returned, so this one did not.
            connection = isinstance(outcome, Exception) and is_connection_error(outcome)
            return Retry() if connection else None

        return call_with_retries(send, policy=self.policy, classify=classify, rewind=rewind)

    def lease(self) -> Session:
        """A session of one's own (the caller releases it), getting it retried."""
        return call_with_retries(
            lambda remaining: self.pool.acquire(self._wait(remaining)),
            policy=self.policy,
            classify=_classify,
        )

    def leased(self, request: Callable[[Session], T]) -> T:
        """``request(session)``, retried like `idempotent`; on success the session stays
        leased to what *request* returned (a stream that releases it when closed)."""

        def send(remaining: float | None) -> T:
            session = self.pool.acquire(self._wait(remaining))
            try:
                self._tidy(session)
                return request(session)
            except BaseException as error:
                broken = connection_failed(error) or not session.is_usable()
                self.pool.release(session, broken=broken)
                raise

        return call_with_retries(send, policy=self.policy, classify=_classify)

    def once(self, request: Callable[[Session], T]) -> T:
        """``request(session)`` sent once; only getting the session is retried."""
        with call_scope(self.policy):
            session = self.lease()
            broken = True
            try:
                self._tidy(session)
                result = request(session)
                broken = False
                return result
            except Exception as error:
                broken = is_connection_error(error)
                raise
            finally:
                self.pool.release(session, broken=broken or not session.is_usable())

    def _tidy(self, session: Session) -> None:
        if self.pool.leftovers:
            stage.tidy(self.pool, session)

    def remaining(self) -> float | None:
        call = current()
        return None if call is None else call.remaining()
