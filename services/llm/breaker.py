"""A circuit breaker per provider: stop calling a provider that keeps failing, try it again later.

Closed (calls pass) → open after `failure_threshold` consecutive failures (calls are refused at
once, without touching the network) → half-open once `cooldown_s` has passed (one probe call at a
time goes through) → closed again when a probe succeeds, or open for another cool-down when it
fails. The clock is injected so tests can move time by hand.

>>> now = [0.0]
>>> breaker = CircuitBreaker("ollama", failure_threshold=2, cooldown_s=10, clock=lambda: now[0])
>>> for _ in range(2):
...     assert breaker.allow()
...     breaker.record_failure()
>>> breaker.state.value, breaker.allow(), breaker.retry_after_s()
('open', False, 10.0)
>>> now[0] = 10.0
>>> breaker.state.value, breaker.allow(), breaker.allow()
('half_open', True, False)
>>> breaker.record_success()
>>> breaker.state.value
'closed'
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import StrEnum

from pydantic import BaseModel

Clock = Callable[[], float]


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class BreakerSnapshot(BaseModel):
    name: str
    state: BreakerState
    consecutive_failures: int
    times_opened: int
    retry_after_s: float


StateListener = Callable[[str, BreakerState, BreakerState], None]  # (name, old, new)


class CircuitBreaker:
    """Thread-safe; one instance per provider, shared by every chat model of that provider.

    A caller asks `allow()` before each attempt and then reports exactly one of
    `record_success()`, `record_failure()` or `release()` (an outcome that says nothing about the
    provider's health, such as a request the provider rightly refused).
    """

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 5,
        cooldown_s: float = 30.0,
        half_open_probes: int = 1,
        clock: Clock = time.monotonic,
        on_change: StateListener | None = None,
    ):
        if failure_threshold < 1 or half_open_probes < 1 or cooldown_s <= 0:
            raise ValueError("failure_threshold and half_open_probes ≥ 1, cooldown_s > 0")
        self.name = name
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self.half_open_probes = half_open_probes
        self._clock = clock
        self._on_change = on_change
        self._lock = threading.RLock()  # a listener may read the state back
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probes = 0  # half-open calls in flight
        self._times_opened = 0

    # -- state ------------------------------------------------------------------------------

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._current()

    def retry_after_s(self) -> float:
        """Seconds until an open breaker lets a probe through (0 when not open)."""
        with self._lock:
            if self._current() is not BreakerState.OPEN:
                return 0.0
            return max(0.0, self._opened_at + self.cooldown_s - self._clock())

    def snapshot(self) -> BreakerSnapshot:
        with self._lock:
            state = self._current()
            wait = self._opened_at + self.cooldown_s - self._clock()
            return BreakerSnapshot(
                name=self.name,
                state=state,
                consecutive_failures=self._failures,
                times_opened=self._times_opened,
                retry_after_s=max(0.0, wait) if state is BreakerState.OPEN else 0.0,
            )

    # -- the protocol -----------------------------------------------------------------------

    def allow(self) -> bool:
        """May a call go out now? In half-open state this reserves one of the probe slots."""
        with self._lock:
            state = self._current()
            if state is BreakerState.CLOSED:
                return True
            if state is BreakerState.HALF_OPEN and self._probes < self.half_open_probes:
                self._probes += 1
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            if self._current() is not BreakerState.CLOSED:
                self._probes = 0
                self._move(BreakerState.CLOSED)

    def record_failure(self) -> None:
        with self._lock:
            state = self._current()
            self._failures += 1
            if state is BreakerState.HALF_OPEN:
                self._probes = 0
                self._open()
            elif state is BreakerState.CLOSED and self._failures >= self.failure_threshold:
                self._open()

    def release(self) -> None:
        """A call ended with no verdict on the provider: free its probe slot, change nothing."""
        with self._lock:
            if self._probes:
                self._probes -= 1

    # -- internals (lock held) --------------------------------------------------------------

    def _current(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock() >= self._opened_at + self.cooldown_s:
            self._move(BreakerState.HALF_OPEN)
        return self._state

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._times_opened += 1
        self._move(BreakerState.OPEN)

    def _move(self, new: BreakerState) -> None:
        old, self._state = self._state, new
        if old is not new and self._on_change is not None:
            self._on_change(self.name, old, new)
