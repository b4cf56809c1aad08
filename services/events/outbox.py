"""Writing an event into the outbox, inside the caller's own transaction.

The change and its event commit together or not at all: `record` takes the connection the
caller is already writing the change on and never commits, so a rolled-back order leaves no
`order.placed` behind, and a committed one always has its event waiting for the dispatcher.

    with engine.begin() as conn:
        conn.execute(insert(Order).values(...))
        record(conn, new_event(OrderPlaced(...), subject=f"orders/{order_id}"))

With an ORM session, pass `session.connection()`: the same transaction the session commits.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC

from cloudevents.core.v1.event import CloudEvent
from sqlalchemy import Connection, RowMapping, insert

from services import clock
from services.db.models import OutboxEvent
from services.errors import AssistantError
from services.events.catalogue import DATA_CONTENT_TYPE, kind_of, payload_of

log = logging.getLogger("events.outbox")
OUTBOX = OutboxEvent.__table__
_INSERT = insert(OUTBOX)


def record(conn: Connection, event: CloudEvent) -> str:
    """Insert the event into `outbox_events` on `conn` (no commit) and return its id.

    The event must be of a catalogue type with a payload that validates, so that nothing the
    consumers cannot read is ever stored for delivery."""
    try:
        if (event.get_datacontenttype() or DATA_CONTENT_TYPE) != DATA_CONTENT_TYPE:
            raise AssistantError("event_invalid", "event data must be application/json")
        kind_of(event.get_type())
        payload_of(event)
    except AssistantError as exc:
        log.warning("refused event %s: %s", event.get_id(), exc.message)
        raise
    happened = (event.get_time() or clock.now()).astimezone(UTC).replace(tzinfo=None)
    row = {
        "id": event.get_id(),
        "type": event.get_type(),
        "source": event.get_source(),
        "subject": event.get_subject(),
        "data": json.dumps(event.get_data(), separators=(",", ":")),
        "created_at": happened,
        "available_at": clock.utcnow(),
        "attempts": 0,
    }
    conn.execute(_INSERT, row)  # one constant statement, compiled once (see services.audit)
    return event.get_id()


def event_from_row(row: RowMapping) -> CloudEvent:
    """The CloudEvent an outbox row stands for, as it was recorded."""
    attributes = {
        "id": row["id"],
        "type": row["type"],
        "source": row["source"],
        "time": row["created_at"].replace(tzinfo=UTC),
        "datacontenttype": DATA_CONTENT_TYPE,
    }
    if row["subject"]:
        attributes["subject"] = row["subject"]
    return CloudEvent(attributes, json.loads(row["data"]))
