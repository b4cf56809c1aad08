"""Model usage as domain events: one `model.usage` per model call of a turn, written to the
outbox in the transaction that records the turn, so billing, quotas and cost reports downstream
see every call the platform paid for (or ran locally), once.

>>> from services.events.catalogue import payload_of
>>> from services.events.wire import decode, encode
>>> event = usage_event(Usage(provider="ollama", model="qwen2.5:3b", prompt_tokens=9,
...     completion_tokens=2), user_id=3, answer_id=41)
>>> event.get_type(), event.get_subject(), payload_of(decode(encode(event))).cost_usd
('com.tradingassist.model.usage.v1', 'answers/41', 0.0)
"""

from __future__ import annotations

from collections.abc import Iterable

from cloudevents.core.v1.event import CloudEvent
from sqlalchemy import Connection

from services.events.catalogue import ModelUsage, new_event
from services.events.outbox import record
from services.llm.usage import Usage


def usage_event(usage: Usage, *, user_id: int | None, answer_id: int) -> CloudEvent:
    """The event of one call; its subject is the answer (the turn's audit entry) it served."""
    payload = ModelUsage(
        provider=usage.provider,
        model=usage.model,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cost_usd=usage.cost_usd,
        user_id=user_id,
    )
    return new_event(payload, subject=f"answers/{answer_id}")


def record_usage(
    conn: Connection, usages: Iterable[Usage], *, user_id: int | None, answer_id: int
) -> None:
    """Record one event per call on `conn` (no commit)."""
    for usage in usages:
        record(conn, usage_event(usage, user_id=user_id, answer_id=answer_id))
