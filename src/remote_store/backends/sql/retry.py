"""Retries for the SQL backends: the adapter over `remote_store.transfer.retrying`.

What is retried is a whole transaction whose work the database undid: a PostgreSQL
serialisation failure or deadlock (class ``40``), a connection that died before the
commit was sent (a pooled connection the server closed, ``pg_terminate_backend``, a
restart), no free connection, and a busy or locked SQLite database. A write transaction
whose connection failed *during* its commit may have landed, so it is not sent again; the
caller gets `BackendUnavailable`. A streamed upload holds the caller's stream and is not
retried either (`ChunkedPut`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa

from remote_store.backends.sql.clients import Transactions
from remote_store.backends.sql.errors import is_transient, translate
from remote_store.config import RetryPolicy
from remote_store.errors import BackendUnavailable
from remote_store.transfer.deadline import call_scope
from remote_store.transfer.retrying import Retry, call_with_retries

T = TypeVar("T")

__all__ = ["DEFAULT_RETRY", "Attempts", "CommitFailed", "call_scope"]

#: 3 attempts, backoff from 0.1 s doubling to 2 s, and a 60 s deadline per call.
DEFAULT_RETRY = RetryPolicy(attempts=3, backoff_base=0.1, backoff_max=2.0, timeout=60.0)


class CommitFailed(Exception):
    """A write's commit failed: it may have landed, so it is never sent again."""

    def __init__(self, error: Exception) -> None:
        super().__init__("the commit failed")
        self.error = error  # the driver's error, or already the library's


def _classify(outcome: object) -> Retry | None:
    if not isinstance(outcome, Exception):
        return None
    # A streamed put translates its own errors; the driver's is kept as the context.
    driver = outcome.__context__ if isinstance(outcome, BackendUnavailable) else outcome
    if driver is not None and is_transient(driver):
        return Retry()
    return None


class Attempts:
    """Runs transactions on *transactions*, each again while it fails transiently."""

    def __init__(self, transactions: Transactions, policy: RetryPolicy) -> None:
        self.transactions = transactions
        self.policy = policy

    def run(
        self,
        operation: str,
        path: str | None,
        work: Callable[[sa.Connection], T],
        *,
        write: bool,
    ) -> T:
        """``work(connection)`` in a transaction, committed when it returns; its errors,
        once retries are spent, as the library's (``operation`` and ``path`` name them)."""

        def send(_remaining: float | None) -> T:
            transaction = self.transactions.open(write=write)
            try:
                result = work(transaction.connection)
            except BaseException:
                transaction.rollback()
                raise
            try:
                transaction.commit()
            except Exception as error:
                if write:
                    raise CommitFailed(error) from error
                raise
            return result

        with translate(operation, path):
            try:
                return call_with_retries(send, policy=self.policy, classify=_classify)
            except CommitFailed as failed:
                raise failed.error from None

    def replay(
        self, operation: str, path: str, put: Callable[[], T], *, rewind: Callable[[], bool]
    ) -> T:
        """``put()``, again while it fails transiently before its commit and *rewind* can
        put its content back where it started."""
        with translate(operation, path):
            try:
                return call_with_retries(
                    lambda _remaining: put(), policy=self.policy, classify=_classify, rewind=rewind
                )
            except CommitFailed as failed:
                raise failed.error from None
