"""What every message bus offers, whatever carries the messages.

A bus publishes CloudEvents under their type as the topic, and delivers each to every
subscriber whose pattern matches, once per consumer name. Patterns use AMQP topic syntax on the
dot-separated type: `*` is one word, `#` zero or more (`com.tradingassist.order.#`,
`#.payment.*.v1`). A handler that raises is retried with exponential backoff (Service Bus
redelivers at once: it has no delayed abandon); after `RetryPolicy.max_attempts` failed
attempts the event goes to the consumer's dead-letter store, which `dead_letters` reads without
removing anything. Delivery is at least once: consumers that write deduplicate by event id
(`services.events.consumer`).

>>> topic_matches("com.tradingassist.order.#", "com.tradingassist.order.filled.v1")
True
>>> topic_matches("#.payment.*.v1", "com.tradingassist.payment.failed.v1")
True
>>> topic_matches("com.tradingassist.order.*", "com.tradingassist.order.filled.v1")
False
>>> RetryPolicy(backoff_s=1, backoff_max_s=5).delay(4)
5.0
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Protocol

from cloudevents.core.v1.event import CloudEvent
from pydantic import BaseModel, ConfigDict, Field

Handler = Callable[[CloudEvent], Awaitable[None]]


class RetryPolicy(BaseModel):
    """How a consumer's failures are retried before the event is dead-lettered."""

    model_config = ConfigDict(frozen=True)

    max_attempts: Annotated[int, Field(ge=1, le=50)] = Field(
        5, description="Attempts per consumer, the first included, before dead-lettering."
    )
    backoff_s: Annotated[float, Field(gt=0)] = Field(
        1.0, description="Delay before the first retry; doubled for each further one."
    )
    backoff_max_s: Annotated[float, Field(gt=0)] = Field(
        60.0, description="Longest delay between two attempts."
    )

    def delay(self, failed_attempts: int) -> float:
        """Seconds to wait after the n-th failed attempt (n from 1)."""
        return min(self.backoff_s * 2 ** (failed_attempts - 1), self.backoff_max_s)


class DeadLetter(BaseModel):
    """An event a consumer gave up on, and why."""

    consumer: str
    event_id: str
    event_type: str
    attempts: int
    error: str


class MessageBus(Protocol):
    """A topic bus for CloudEvents (in-process, RabbitMQ, Azure Service Bus, Event Grid)."""

    description: str

    async def publish(self, event: CloudEvent) -> None:
        """Return once the bus has accepted the event durably (broker confirm), or raise."""

    async def subscribe(self, pattern: str, handler: Handler, *, consumer: str) -> None:
        """Deliver every event whose type matches `pattern` to `handler`, as `consumer`: one
        durable subscription per consumer name, shared by that consumer's processes."""

    async def dead_letters(self, consumer: str, limit: int = 100) -> list[DeadLetter]:
        """The events `consumer` gave up on, oldest first, left in place."""

    async def ping(self) -> str:
        """How the bus answered (e.g. "answers"); raise when it does not."""

    async def close(self) -> None:
        """Stop consuming and release connections; pending deliveries are not lost."""


def _words_match(pattern: tuple[str, ...], words: tuple[str, ...]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":  # zero words, or one more word and '#' again
        return _words_match(rest, words) or (bool(words) and _words_match(pattern, words[1:]))
    return bool(words) and head in ("*", words[0]) and _words_match(rest, words[1:])


def topic_matches(pattern: str, topic: str) -> bool:
    """AMQP topic matching, as RabbitMQ does it, for buses that filter on the client."""
    return _words_match(tuple(pattern.split(".")), tuple(topic.split(".")))
