"""Events on the wire: CloudEvents' JSON structured format, the same bytes on every bus.

Structured mode (attributes and data in one JSON body, content type
`application/cloudevents+json`) is used everywhere so that a message moved to a dead-letter
queue, retried or forwarded carries the whole event with it.

>>> from services.events.catalogue import UserRegistered, new_event
>>> event = new_event(UserRegistered(user_id=1, country="DE", role="customer"), subject="users/1")
>>> back = decode(encode(event))
>>> (back.get_id(), back.get_time(), back.get_data()) == (
...     event.get_id(), event.get_time(), event.get_data())
True
"""

from __future__ import annotations

from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from services.errors import AssistantError

FORMAT = JSONFormat()
CONTENT_TYPE = JSONFormat.CONTENT_TYPE


def encode(event: CloudEvent) -> bytes:
    return FORMAT.write(event)


def decode(body: bytes | str) -> CloudEvent:
    """Parse a structured-mode body; anything that is not a valid CloudEvent is refused."""
    try:
        event = FORMAT.read(CloudEvent, body)
    except (ValueError, TypeError, KeyError, AttributeError, BaseCloudEventException) as exc:
        raise AssistantError("event_invalid", f"not a CloudEvent: {exc}") from None
    return event
