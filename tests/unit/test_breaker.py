"""The circuit breaker's states with a hand-moved clock, and the retry policy's waits."""

from __future__ import annotations

import threading

import pytest

from services.llm.breaker import BreakerState, CircuitBreaker
from services.llm.resilient import FailureKind, RetryPolicy, classify


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make(clock: FakeClock, **kwargs) -> CircuitBreaker:
    return CircuitBreaker(
        "test", clock=clock, **{"failure_threshold": 3, "cooldown_s": 10, **kwargs}
    )


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        assert breaker.allow()
        breaker.record_failure()


def test_opens_after_consecutive_failures_only(clock):
    breaker = make(clock)
    fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow()
    breaker.record_success()  # a success resets the count
    fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    fail(breaker, 1)
    assert breaker.state is BreakerState.OPEN
    assert breaker.snapshot().times_opened == 1


def test_open_breaker_refuses_until_the_cooldown_has_passed(clock):
    breaker = make(clock)
    fail(breaker, 3)
    assert not breaker.allow()
    assert breaker.retry_after_s() == 10
    clock.now += 9.5
    assert not breaker.allow()
    assert breaker.retry_after_s() == pytest.approx(0.5)
    clock.now += 0.5
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.retry_after_s() == 0


def test_half_open_lets_one_probe_through_and_closes_on_success(clock):
    breaker = make(clock)
    fail(breaker, 3)
    clock.now += 10
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # a second caller waits for the probe's verdict
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.snapshot().consecutive_failures == 0
    assert all(breaker.allow() for _ in range(5))


def test_failed_probe_opens_for_another_cooldown(clock):
    breaker = make(clock)
    fail(breaker, 3)
    clock.now += 10
    assert breaker.allow()
    breaker.record_failure()  # one failure is enough in half-open
    assert breaker.state is BreakerState.OPEN
    assert breaker.retry_after_s() == 10
    assert breaker.snapshot().times_opened == 2
    clock.now += 10
    assert breaker.state is BreakerState.HALF_OPEN


def test_release_frees_the_probe_without_a_verdict(clock):
    breaker = make(clock)
    fail(breaker, 3)
    clock.now += 10
    assert breaker.allow()
    breaker.release()
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()  # the slot is free again


def test_more_probes_when_configured(clock):
    breaker = make(clock, half_open_probes=2)
    fail(breaker, 3)
    clock.now += 10
    assert [breaker.allow() for _ in range(3)] == [True, True, False]


def test_listener_sees_every_transition(clock):
    seen: list[tuple[str, str]] = []
    breaker = make(clock, on_change=lambda name, old, new: seen.append((old.value, new.value)))
    fail(breaker, 3)
    clock.now += 10
    assert breaker.allow()
    breaker.record_success()
    assert seen == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]


def test_snapshot_reports_state(clock):
    breaker = make(clock)
    fail(breaker, 3)
    clock.now += 4
    snap = breaker.snapshot()
    assert (snap.name, snap.state, snap.consecutive_failures) == ("test", BreakerState.OPEN, 3)
    assert snap.retry_after_s == pytest.approx(6)


def test_concurrent_failures_are_all_counted(clock):
    breaker = make(clock, failure_threshold=400)
    threads = [
        threading.Thread(target=lambda: [breaker.record_failure() for _ in range(100)])
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert breaker.state is BreakerState.OPEN
    assert breaker.snapshot().consecutive_failures == 400


@pytest.mark.parametrize(
    "kwargs", [{"failure_threshold": 0}, {"cooldown_s": 0}, {"half_open_probes": 0}]
)
def test_nonsense_configuration_is_refused(clock, kwargs):
    with pytest.raises(ValueError):
        make(clock, **kwargs)


# -- the retry policy and the failure classes used with the breaker -----------------------------


def test_backoff_doubles_and_is_capped():
    policy = RetryPolicy(backoff_s=0.25, backoff_max_s=1.5, jitter=0)
    assert [policy.backoff(n) for n in range(1, 6)] == [0.25, 0.5, 1.0, 1.5, 1.5]


@pytest.mark.parametrize("rand", [0.0, 0.3, 0.999])
def test_jitter_stays_within_its_band_and_the_cap(rand):
    policy = RetryPolicy(backoff_s=1, backoff_max_s=3, jitter=0.2)
    assert 0.8 <= policy.backoff(1, rand) <= 1.2
    assert 1.6 <= policy.backoff(2, rand) <= 2.4
    assert policy.backoff(3, rand) <= 3  # 4 s ± 20 % is capped


def test_policy_bounds_are_validated():
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(timeout_s=0)


def test_classify_separates_provider_failures_from_request_errors():
    import json

    import httpx

    request = httpx.Request("POST", "http://127.0.0.1/api/chat")
    assert classify(httpx.ReadTimeout("slow", request=request)).kind is FailureKind.TIMEOUT
    assert classify(httpx.ConnectError("refused", request=request)).kind is FailureKind.CONNECTION
    assert classify(json.JSONDecodeError("bad", "{", 1)).kind is FailureKind.MALFORMED
    status = httpx.HTTPStatusError(
        "boom", request=request, response=httpx.Response(502, request=request)
    )
    assert classify(status).kind is FailureKind.SERVER_ERROR
    rejected = httpx.HTTPStatusError(
        "no", request=request, response=httpx.Response(401, request=request)
    )
    assert classify(rejected).kind is FailureKind.REJECTED
    assert not classify(rejected).retryable
    bad_request = httpx.HTTPStatusError(
        "bad", request=request, response=httpx.Response(400, request=request)
    )
    assert classify(bad_request) is None
    assert classify(KeyError("a bug of ours")) is None
