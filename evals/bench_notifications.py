"""How fast notifications are queued and delivered, on a fresh database of its own.

Three timed phases over `events` order-filled events for `users` users (defaults: in-app and
email, so two rows per event): handling them (render, preferences, insert, the event-id key),
handling the same events again (each refused by the key, nothing queued), and delivering the
emails to a local SMTP server (aiosmtpd on 127.0.0.1, one SMTP session per message, as in
production). A fourth phase sends a pass to a port nobody listens on, to show what a dead
relay costs per message before its retry is scheduled.

    trading-assist notify bench [--events 300] [--database-url URL] [--json]
"""

from __future__ import annotations

import logging
import socket
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field
from sqlalchemy import func, insert, select

from services.db.engines import make_engine
from services.db.migrate import upgrade
from services.db.models import Notification, User
from services.notifications.events import NotificationEvent
from services.notifications.service import NotificationService
from services.settings import Settings


class Phase(BaseModel):
    items: int
    seconds: float
    per_s: float = Field(description="Items per second.")


class NotificationBench(BaseModel):
    database: str
    events: int
    handle: Phase = Field(description="Events handled: rendered, checked, queued.")
    duplicates: Phase = Field(description="The same events again, refused by the event-id key.")
    deliver: Phase = Field(description="Emails sent to a local SMTP server.")
    dead_relay: Phase = Field(description="Emails tried against a closed port (then retried).")
    queued: int = Field(description="Notification rows the events created.")
    emails_received: int


def _phase(items: int, started: float) -> Phase:
    seconds = time.perf_counter() - started
    return Phase(items=items, seconds=round(seconds, 3), per_s=round(items / seconds, 1))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Counter:
    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd hook
        self.received += 1
        return "250 OK"


@contextmanager
def _smtp_server():
    try:
        from aiosmtpd.controller import Controller
    except ImportError as exc:  # a development dependency
        raise RuntimeError(
            "the notification benchmark needs aiosmtpd (pip install aiosmtpd)"
        ) from exc
    counter, port = _Counter(), _free_port()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield counter, port
    finally:
        controller.stop()


@contextmanager
def _quiet(name: str):
    """Silence a logger's per-message lines while timing, then put its level back."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _events(count: int, users: int) -> list[NotificationEvent]:
    return [
        NotificationEvent(
            id=f"bench-{n}",
            type="com.tradingassist.order.filled.v1",
            user_id=1 + n % users,
            data={
                "order_id": n,
                "side": "buy",
                "quantity": 1,
                "symbol": "AAPL",
                "avg_fill_price": 190.5,
            },
        )
        for n in range(count)
    ]


def run(events: int = 300, users: int = 20, database_url: str | None = None) -> NotificationBench:
    """Run the phases on `database_url` (emptied tables are not assumed: use a fresh database)
    or on a new SQLite file in a temporary folder."""
    with (
        _quiet("services.notifications"),
        tempfile.TemporaryDirectory() as tmp,
        _smtp_server() as (counter, port),
    ):
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(url)
        try:
            upgrade(engine)
            with engine.begin() as conn:
                conn.execute(
                    insert(User),
                    [
                        {
                            "id": i,
                            "email": f"user{i}@example.com",
                            "full_name": f"User {i}",
                            "country": "GB",
                            "role": "customer",
                            "tier": "standard",
                            "status": "active",
                            "created_at": datetime(2026, 1, 1),
                        }
                        for i in range(1, users + 1)
                    ],
                )
            base = {"_env_file": None, "var_dir": Path(tmp), "smtp_starttls": False}
            live = NotificationService.from_settings(
                Settings(**base, smtp_host="127.0.0.1", smtp_port=port), engine
            )
            batch = _events(events, users)

            started = time.perf_counter()
            queued = sum(len(live.handle_event(e)) for e in batch)
            handle = _phase(events, started)

            started = time.perf_counter()
            again = sum(len(live.handle_event(e)) for e in batch)
            duplicates = _phase(events, started)
            if again:
                raise RuntimeError(f"{again} notifications queued twice")

            started = time.perf_counter()
            sent = live.deliver_due(limit=events).sent
            deliver = _phase(sent, started)

            with engine.begin() as conn:  # the same emails, due again, for the dead relay
                conn.execute(
                    Notification.__table__.update()
                    .where(Notification.channel == "email")
                    .values(status="pending", next_attempt_at=None, attempts=0)
                )
                emails = conn.execute(
                    select(func.count()).where(Notification.channel == "email")
                ).scalar_one()
            dead = NotificationService.from_settings(
                Settings(**base, smtp_host="127.0.0.1", smtp_port=_free_port()), engine
            )
            started = time.perf_counter()
            retrying = dead.deliver_due(limit=emails).retrying
            dead_relay = _phase(retrying, started)
        finally:
            engine.dispose()
        return NotificationBench(
            database=engine.dialect.name,
            events=events,
            handle=handle,
            duplicates=duplicates,
            deliver=deliver,
            dead_relay=dead_relay,
            queued=queued,
            emails_received=counter.received,
        )
