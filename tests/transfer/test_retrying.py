"""The generic retry loop (`transfer.retrying.call_with_retries`) and the call deadline it
runs in, driven by a scripted flaky `send` and a fake clock: no network, no sleeping."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from email.utils import formatdate

import pytest

from remote_store.config import RetryPolicy
from remote_store.transfer import deadline
from remote_store.transfer.deadline import Call, DeadlineExceeded, call_scope, maybe_landed
from remote_store.transfer.retrying import (
    Retry,
    call_with_retries,
    retry_after,
    retryable_status,
)


@dataclass(frozen=True)
class Answer:
    """What a scripted request returns: a status and headers."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)


class Lost(ConnectionResetError):
    """The request went out, its answer never came back: it may have landed."""


class Refused(ConnectionRefusedError):
    """Nothing was sent."""


class Clock:
    """Fake time: `sleep` and slow requests move it; nothing really waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Script:
    """A flaky `send`: each attempt takes *cost* seconds of fake time, then returns (or
    raises) the next scripted outcome; the last one repeats."""

    def __init__(self, clock: Clock, *outcomes: Answer | Exception, cost: float = 0.0) -> None:
        self.clock = clock
        self.outcomes = list(outcomes)
        self.cost = cost
        self.sent_at: list[float] = []
        self.remaining: list[float | None] = []

    def __call__(self, remaining: float | None) -> Answer:
        self.sent_at.append(self.clock.now)
        self.remaining.append(remaining)
        self.clock.now += self.cost
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def classify(outcome: Answer | Exception) -> Retry | None:
    if isinstance(outcome, Lost):
        return Retry(landed=True)
    if isinstance(outcome, Refused):
        return Retry(landed=False)
    if isinstance(outcome, Exception) or not retryable_status(outcome.status):
        return None
    return Retry(landed=True, after=retry_after(outcome.headers))


def policy(**changes: object) -> RetryPolicy:
    base: dict[str, object] = {
        "attempts": 4,
        "backoff_base": 0.1,
        "backoff_max": 2.0,
        "jitter": False,
        "timeout": None,
    }
    base.update(changes)
    return RetryPolicy(**base)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> Clock:
    return Clock()


def run(clock: Clock, script: Script, rules: RetryPolicy) -> tuple[Answer, Call]:
    """Send *script* under *rules* inside a call on the fake clock."""
    with call_scope(rules, clock) as call:
        assert call is not None
        answer = call_with_retries(script, policy=rules, classify=classify, sleep=clock.sleep)
        return answer, call


# ---------------------------------------------------------------------- attempts and backoff


def test_success_after_failures_returns_the_answer_after_the_policy_backoff(
    clock: Clock,
) -> None:
    """REL-031."""
    script = Script(clock, Answer(503), Refused(), Answer(200))
    answer, call = run(clock, script, policy())
    assert answer == Answer(200)
    assert len(script.sent_at) == 3
    assert clock.sleeps == [0.1, 0.2]  # policy.delays without jitter
    assert (call.requests, call.retries, call.gave_up) == (1, 2, None)


def test_attempts_are_exhausted_then_the_last_answer_is_returned_and_described(
    clock: Clock,
) -> None:
    """REL-031."""
    script = Script(clock, Answer(503), cost=0.5)
    answer, call = run(clock, script, policy(attempts=3))
    assert answer == Answer(503)
    assert len(script.sent_at) == 3
    assert clock.sleeps == [0.1, 0.2]  # no sleep after the last attempt
    assert call.gave_up is not None and call.gave_up[0] == 3 and call.gave_up[2] == "attempts"
    assert call.describe() == "gave up after 3 attempts over 1.8 s (retry.attempts=3)"


def test_the_last_exception_is_raised_when_attempts_run_out(clock: Clock) -> None:
    """REL-031."""
    script = Script(clock, Refused("first"), Refused("second"))
    with pytest.raises(Refused, match="second"):
        run(clock, script, policy(attempts=2))
    assert len(script.sent_at) == 2


@pytest.mark.parametrize("outcome", [Answer(404), Answer(501), ValueError("bug")])
def test_what_classify_refuses_is_sent_once(clock: Clock, outcome: Answer | Exception) -> None:
    """REL-031."""
    script = Script(clock, outcome, Answer(200))
    if isinstance(outcome, Exception):
        with pytest.raises(ValueError, match="bug"):
            run(clock, script, policy())
    else:
        assert run(clock, script, policy())[0] == outcome
    assert len(script.sent_at) == 1
    assert clock.sleeps == []


def test_a_body_that_cannot_be_rewound_is_not_sent_again(clock: Clock) -> None:
    """REL-031."""
    script = Script(clock, Answer(503), Answer(200))
    with call_scope(policy(), clock) as call:
        assert call is not None
        answer = call_with_retries(
            script, policy=policy(), classify=classify, rewind=lambda: False, sleep=clock.sleep
        )
    assert answer == Answer(503)
    assert len(script.sent_at) == 1
    assert call.gave_up is not None and call.gave_up[::2] == (1, "attempts")


# ---------------------------------------------------------------------- Retry-After


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "30"}, 2.0),  # capped at backoff_max
        ({"retry-after": "1"}, 1.0),  # longer than the backoff: honoured
        ({"retry-after-ms": "500"}, 0.5),
        ({"x-ms-retry-after-ms": "1500"}, 1.5),
        ({"retry-after": "0"}, 0.1),  # shorter than the backoff: the backoff
        ({}, 0.1),
    ],
)
def test_retry_after_is_honoured_up_to_backoff_max(
    clock: Clock, headers: dict[str, str], expected: float
) -> None:
    """REL-031."""
    lowered = {name.lower(): value for name, value in headers.items()}
    script = Script(clock, Answer(429, lowered), Answer(200))
    assert run(clock, script, policy())[0] == Answer(200)
    assert clock.sleeps == [expected]


def test_retry_after_reads_every_form() -> None:
    """REL-031."""
    assert retry_after({"retry-after-ms": "250"}) == 0.25
    assert retry_after({"x-ms-retry-after-ms": "1000"}) == 1.0
    assert retry_after({"retry-after": "7"}) == 7.0
    assert retry_after({"retry-after": "-3"}) == 0.0
    assert retry_after({"retry-after": formatdate(time.time() - 60, usegmt=True)}) == 0.0
    ahead = retry_after({"retry-after": formatdate(time.time() + 120, usegmt=True)})
    assert ahead is not None and 115 <= ahead <= 121
    assert retry_after({"retry-after-ms": "soon", "retry-after": "2"}) == 2.0
    assert retry_after({"retry-after": "not a date"}) is None
    assert retry_after({}) is None


def test_retryable_statuses() -> None:
    """REL-002, REL-031."""
    retried = [s for s in range(100, 600) if retryable_status(s)]
    assert retried == [408, 429, 500, 502, 503, 504, *range(506, 600)]
    assert not retryable_status(None)


# ---------------------------------------------------------------------- the deadline


def test_no_request_or_sleep_crosses_the_deadline(clock: Clock) -> None:
    """REL-031: each attempt costs 0.4 s, each backoff 0.3 s, the deadline is 1.5 s: attempts start
    at 0, 0.7 and 1.4 s; after the third, no wait fits in what is left, so the loop stops
    (no fourth request past the deadline, no DeadlineExceeded)."""
    rules = policy(attempts=10, backoff_base=0.3, backoff_max=0.3, timeout=1.5)
    script = Script(clock, Answer(503), cost=0.4)
    start = clock.now
    answer, call = run(clock, script, rules)
    assert answer == Answer(503)
    assert all(at - start < 1.5 for at in script.sent_at)
    assert all(r is not None and 0 < r <= 1.5 for r in script.remaining)
    assert clock.now - start <= 1.5 + 0.4  # the last attempt may run until its own timeout
    assert sum(clock.sleeps) + 0.4 * len(script.sent_at) == pytest.approx(clock.now - start)
    assert call.gave_up is not None and call.gave_up[2] == "deadline"
    assert call.describe().startswith("deadline of 1.5 s reached after ")


def test_the_remaining_time_is_handed_to_each_attempt(clock: Clock) -> None:
    """REL-031."""
    rules = policy(backoff_base=0.25, backoff_max=0.25, timeout=10.0)
    script = Script(clock, Answer(500), Answer(500), Answer(200), cost=1.0)
    run(clock, script, rules)
    assert script.remaining == [10.0, 8.75, 7.5]


def test_an_expired_call_raises_deadline_exceeded_before_sending(clock: Clock) -> None:
    """REL-031."""
    rules = policy(timeout=5.0)
    script = Script(clock, Answer(200))
    with call_scope(rules, clock) as call, pytest.raises(DeadlineExceeded, match="5 s"):
        clock.now += 5.0
        call_with_retries(script, policy=rules, classify=classify, sleep=clock.sleep)
    assert script.sent_at == []
    assert call is not None and call.gave_up is not None and call.gave_up[::2] == (0, "deadline")


def test_one_call_is_shared_by_every_request_in_it(clock: Clock) -> None:
    """REL-030: the deadline is the call's, not each request's: the second request starts with what
    the first left."""
    rules = policy(timeout=10.0)
    first = Script(clock, Answer(200), cost=3.0)
    second = Script(clock, Answer(200), cost=3.0)
    with call_scope(rules, clock) as call:
        call_with_retries(first, policy=rules, classify=classify)
        with call_scope(policy(timeout=99.0)) as inner:
            assert inner is call  # joins, ignoring its own policy
            call_with_retries(second, policy=rules, classify=classify)
    assert second.remaining == [7.0]
    assert call is not None and call.requests == 2
    assert deadline.current() is None


def test_renew_restarts_the_deadline(clock: Clock) -> None:
    """REL-030."""
    with call_scope(policy(timeout=10.0), clock) as call:
        assert call is not None
        clock.now += 8.0
        call.renew()
        assert call.remaining() == 10.0


# ---------------------------------------------------------------------- may have landed


@pytest.mark.parametrize(
    ("first", "landed"),
    [(Lost(), True), (Answer(503), True), (Refused(), False)],
    ids=["lost-answer", "error-status", "nothing-sent"],
)
def test_a_retry_after_a_lost_answer_or_an_error_status_may_have_landed(
    clock: Clock, first: Answer | Exception, landed: bool
) -> None:
    """REL-031."""
    script = Script(clock, first, Answer(200))
    with call_scope(policy(), clock) as call:
        assert not maybe_landed()
        call_with_retries(script, policy=policy(), classify=classify, sleep=clock.sleep)
        assert maybe_landed() is landed
    assert call is not None and call.uncertain == int(landed)
    assert not maybe_landed()  # the call is over


def test_a_request_not_retried_is_never_uncertain(clock: Clock) -> None:
    """REL-031."""
    script = Script(clock, Answer(503))
    with call_scope(policy(attempts=1), clock):
        call_with_retries(script, policy=policy(attempts=1), classify=classify)
        assert not maybe_landed()


def test_a_loop_outside_any_call_opens_its_own() -> None:
    """REL-030."""
    seen: list[Call | None] = []

    def send(remaining: float | None) -> Answer:
        seen.append(deadline.current())
        return Answer(200)

    call_with_retries(send, policy=policy(timeout=30.0), classify=classify)
    assert seen[0] is not None and seen[0].policy.timeout == 30.0
    assert deadline.current() is None


def test_the_transfer_package_imports_no_service_sdk() -> None:
    code = (
        "import sys, remote_store.transfer.deadline, remote_store.transfer.retrying, "
        "remote_store.transfer.reconcile, remote_store.transfer.reader, "
        "remote_store.transfer.uploader\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('azure', 'boto3', 'botocore', 'paramiko')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
