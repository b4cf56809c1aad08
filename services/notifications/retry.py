"""When a failed delivery is tried again: exponential backoff with a ceiling.

No jitter: deliveries are claimed one row at a time (see `delivery.py`), so many retries
falling due together are worked through in order rather than stampeding a recovering server.

>>> policy = RetryPolicy(max_attempts=4, backoff_s=30, backoff_max_s=100)
>>> [policy.delay_s(n) for n in (1, 2, 3)]
[30.0, 60.0, 100.0]
>>> policy.gives_up_after(3), policy.gives_up_after(4)
(False, True)
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.settings import Settings


class RetryPolicy(BaseModel, frozen=True):
    max_attempts: int = Field(ge=1, description="Attempts, the first included, before failed.")
    backoff_s: float = Field(gt=0, description="Wait after the first failed attempt.")
    backoff_max_s: float = Field(gt=0, description="Longest wait between attempts.")

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            max_attempts=settings.notify_max_attempts,
            backoff_s=settings.notify_backoff_s,
            backoff_max_s=settings.notify_backoff_max_s,
        )

    def delay_s(self, attempts_made: int) -> float:
        """Seconds to wait after the `attempts_made`-th attempt failed."""
        return float(min(self.backoff_s * 2 ** (attempts_made - 1), self.backoff_max_s))

    def gives_up_after(self, attempts_made: int) -> bool:
        return attempts_made >= self.max_attempts
