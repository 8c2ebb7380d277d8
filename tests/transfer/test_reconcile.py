"""`transfer.reconcile.landed`: the service is asked whether a conflict was our own first
attempt only when the call retried a request that may have landed."""

from __future__ import annotations

import logging

import pytest

from remote_store.config import RetryPolicy
from remote_store.transfer.deadline import call_scope, current
from remote_store.transfer.reconcile import landed

POLICY = RetryPolicy(timeout=None)


class Check:
    def __init__(self, answer: object) -> None:
        self.answer = answer
        self.calls = 0

    def __call__(self) -> object:
        self.calls += 1
        return self.answer


def test_outside_a_call_the_service_is_not_asked() -> None:
    """REL-032."""
    check = Check({"etag": "x"})
    assert landed(check, "write 'k'") is None
    assert check.calls == 0


def test_a_call_without_an_uncertain_retry_does_not_ask() -> None:
    """REL-032."""
    check = Check(True)
    with call_scope(POLICY) as call:
        assert call is not None
        call.sent(retry=False)
        call.sent(retry=True)  # a retry, but of a request that cannot have landed
        assert landed(check, "copy 'k'") is None
    assert check.calls == 0


@pytest.mark.parametrize("answer", [{"etag": "ours"}, True, None, False])
def test_after_an_uncertain_retry_the_check_decides(
    answer: object, caplog: pytest.LogCaptureFixture
) -> None:
    """REL-032."""
    check = Check(answer)
    log = logging.getLogger("tests.transfer.reconcile")
    with call_scope(POLICY), caplog.at_level(logging.INFO, logger=log.name):
        call = current()
        assert call is not None
        call.may_have_landed()
        assert landed(check, "write 'a/b'", log) == answer
    assert check.calls == 1
    said = [r.getMessage() for r in caplog.records if r.name == log.name]
    assert said == (
        ["write 'a/b': a retried request met its own first attempt; it landed"] if answer else []
    )
