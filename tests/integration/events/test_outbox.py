"""The outbox on real SQLite and PostgreSQL: events commit and roll back with the caller's
change, the dispatcher delivers them, and a refused delivery backs off and stays."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import insert, select

from services.db.models import AuditLog, OutboxEvent, ProcessedEvent
from services.errors import AssistantError
from services.events.bus.memory import MemoryBus
from services.events.catalogue import UserRegistered, new_event
from services.events.dispatcher import Dispatcher
from services.events.outbox import record
from tests.integration.events.helpers import DATABASES, database, payment, registrations

pytestmark = pytest.mark.timeout(120)
OUTBOX = OutboxEvent.__table__


def audit_row(action: str) -> dict:
    return dict(
        occurred_at=datetime(2026, 12, 1),
        actor_user_id=None,
        actor_role="system",
        action=action,
        outcome="ok",
        detail="{}",
    )


def outbox_rows(engine) -> list[dict]:
    with engine.connect() as conn:
        return [
            dict(r) for r in conn.execute(select(OUTBOX).order_by(OUTBOX.c.created_at)).mappings()
        ]


@DATABASES
def test_record_commits_and_rolls_back_with_the_callers_change(kind, tmp_path):
    kept, lost = payment(1), payment(2)
    with database(kind, tmp_path) as engine:
        with engine.begin() as conn:
            conn.execute(insert(AuditLog).values(**audit_row("change.kept")))
            assert record(conn, kept) == kept.get_id()
        with pytest.raises(RuntimeError), engine.begin() as conn:
            conn.execute(insert(AuditLog).values(**audit_row("change.lost")))
            record(conn, lost)
            raise RuntimeError("the change fails after its event was recorded")
        rows = outbox_rows(engine)
        with engine.connect() as conn:
            actions = conn.execute(select(AuditLog.action)).scalars().all()

    assert actions == ["change.kept"]
    assert [r["id"] for r in rows] == [kept.get_id()]
    row = rows[0]
    assert (row["type"], row["source"], row["subject"]) == (
        "com.tradingassist.payment.succeeded.v1",
        "/trading-assist/payments",
        "payments/1",
    )
    assert json.loads(row["data"]) == kept.get_data()
    assert row["created_at"] == kept.get_time().astimezone(UTC).replace(tzinfo=None)
    assert (row["attempts"], row["dispatched_at"], row["claimed_by"]) == (0, None, None)


def test_record_refuses_an_event_outside_the_catalogue_and_writes_nothing(tmp_path, caplog):
    from cloudevents.core.v1.event import CloudEvent

    stranger = CloudEvent(
        {"type": "com.example.unknown.v1", "source": "/x", "datacontenttype": "application/json"},
        {"a": 1},
    )
    bad_payload = new_event(UserRegistered(user_id=1, country="DE", role="customer"), subject="u")
    bad_payload._data = {"user_id": "not a number"}  # what a careless emitter might send
    with database("sqlite", tmp_path) as engine:
        for event, code in ((stranger, "unknown_event_type"), (bad_payload, "event_invalid")):
            with pytest.raises(AssistantError) as refused, engine.begin() as conn:
                record(conn, event)
            assert refused.value.code == code
        assert outbox_rows(engine) == []
    assert "refused event" in caplog.text


@DATABASES
async def test_the_dispatcher_delivers_in_order_and_marks_each_row(kind, tmp_path):
    events = registrations(5)
    received = []

    async def handle(event):
        received.append(event)

    bus = MemoryBus()
    await bus.subscribe("#", handle, consumer="test")
    with database(kind, tmp_path) as engine:
        for event in events:
            with engine.begin() as conn:
                record(conn, event)
        dispatcher = Dispatcher(engine, bus, batch_size=2)
        report = await dispatcher.drain()
        await bus.drain()
        again = await dispatcher.drain()
        rows = outbox_rows(engine)

    assert (report.claimed, report.delivered, report.failed) == (5, 5, 0)
    assert again.claimed == 0
    assert [e.get_id() for e in received] == [e.get_id() for e in events]
    assert [(e.get_subject(), e.get_data(), e.get_time()) for e in received] == [
        (e.get_subject(), e.get_data(), e.get_time()) for e in events
    ]
    assert all(r["dispatched_at"] is not None and r["claimed_by"] is None for r in rows)


async def test_a_refused_event_backs_off_exponentially_up_to_the_cap_and_stays(tmp_path):
    start = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    down = MemoryBus()
    await down.close()  # a bus that refuses every publish
    with (
        time_machine.travel(start, tick=False) as traveller,
        database("sqlite", tmp_path) as engine,
    ):
        event = payment(3)
        with engine.begin() as conn:
            record(conn, event)
        dispatcher = Dispatcher(engine, down, backoff_s=2, backoff_max_s=5)
        waits = []
        for _ in range(4):
            report = await dispatcher.dispatch_once()
            assert (report.claimed, report.failed) == (1, 1)
            row = outbox_rows(engine)[0]
            waits.append((row["available_at"] - start.replace(tzinfo=None)).total_seconds())
            assert (await dispatcher.dispatch_once()).claimed == 0  # not due before its time
            traveller.move_to(row["available_at"].replace(tzinfo=UTC))
            start = row["available_at"].replace(tzinfo=UTC)
        row = outbox_rows(engine)[0]

        received = []

        async def handle(e):
            received.append(e.get_id())

        up = MemoryBus()
        await up.subscribe("#", handle, consumer="test")
        report = await Dispatcher(engine, up).dispatch_once()
        await up.drain()
        delivered = outbox_rows(engine)[0]

    assert waits == [2, 4, 5, 5]
    assert row["attempts"] == 4 and row["dispatched_at"] is None
    assert "closed" in row["last_error"] and row["claimed_by"] is None
    assert report.delivered == 1 and received == [event.get_id()]
    assert delivered["dispatched_at"] == datetime(2026, 12, 2, 10, 0, 16)
    assert delivered["attempts"] == 4


async def test_a_crashed_dispatchers_lease_runs_out_and_another_delivers(tmp_path):
    """A dispatcher that claimed a batch and died holds it only until its lease ends."""
    start = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    received = []

    async def handle(e):
        received.append(e.get_id())

    bus = MemoryBus()
    await bus.subscribe("#", handle, consumer="test")
    with (
        time_machine.travel(start, tick=False) as traveller,
        database("sqlite", tmp_path) as engine,
    ):
        events = registrations(3)
        for event in events:
            with engine.begin() as conn:
                record(conn, event)
        crashed_until = start.replace(tzinfo=None) + timedelta(seconds=30)
        with engine.begin() as conn:  # what a dispatcher's claim leaves when it dies right after
            conn.execute(
                OUTBOX.update().values(claimed_by="crashed:1:abc", claimed_until=crashed_until)
            )
        survivor = Dispatcher(engine, bus, lease_s=30, publish_timeout_s=5)
        before = await survivor.dispatch_once()
        traveller.move_to(start + timedelta(seconds=31))
        after = await survivor.dispatch_once()
        await bus.drain()

    assert before.claimed == 0
    assert after.delivered == 3 and sorted(received) == sorted(e.get_id() for e in events)


async def test_the_dispatcher_task_delivers_as_soon_as_it_is_woken(tmp_path):
    received = asyncio.Queue()

    async def handle(event):
        await received.put(event.get_id())

    bus = MemoryBus()
    await bus.subscribe("#", handle, consumer="test")
    with database("sqlite", tmp_path) as engine:
        dispatcher = Dispatcher(engine, bus, poll_s=30)  # only a wake can explain a delivery
        task = dispatcher.start()
        assert dispatcher.start() is task  # one task per dispatcher
        await asyncio.sleep(0.2)  # it has found nothing due and is waiting
        event = payment(5)
        with engine.begin() as conn:
            record(conn, event)
        dispatcher.wake()
        got = await asyncio.wait_for(received.get(), 5)
        await dispatcher.stop()
        row = outbox_rows(engine)[0]

    assert got == event.get_id() and task.done()
    assert row["dispatched_at"] is not None


@DATABASES
def test_migration_0006_matches_the_models_and_goes_down_and_up(kind, tmp_path):
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    from services.db.migrate import alembic_config
    from services.db.models import Base

    event_tables = {"outbox_events", "processed_events"}

    def differences(conn) -> list:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
        return [d for d in diff if event_tables & _tables_named(d)]

    with database(kind, tmp_path) as engine:
        with engine.connect() as conn:
            drift = differences(conn)
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0003")
        after_down = set(inspect(engine).get_table_names())
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
        with engine.connect() as conn:
            drift_after = differences(conn)

    assert drift == [] and drift_after == []
    assert not event_tables & after_down


def _tables_named(diff) -> set[str]:
    """Table names an autogenerate difference mentions, however deeply it nests them."""
    if isinstance(diff, list):
        return set().union(*(_tables_named(d) for d in diff)) if diff else set()
    names = set()
    for part in diff:
        table = getattr(part, "table", None)
        name = getattr(table, "name", None) or getattr(part, "name", None)
        if isinstance(part, str):
            names.add(part)
        elif isinstance(name, str):
            names.add(name)
    return names


async def test_the_event_runtime_dispatches_while_the_process_runs(tmp_path):
    from services.events.runtime import event_runtime
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, message_bus_url="memory://", events_poll_s=0.05)
    received = asyncio.Queue()

    async def handle(event):
        await received.put(event.get_id())

    with database("sqlite", tmp_path) as engine:
        async with event_runtime(settings, engine) as events:
            await events.bus.subscribe("#.payment.#", handle, consumer="payments")
            event = payment(11)
            with engine.begin() as conn:
                record(conn, event)
            got = await asyncio.wait_for(received.get(), 5)  # picked up by the poll
            task = events.dispatcher.start()
        row = outbox_rows(engine)[0]

    assert got == event.get_id() and row["dispatched_at"] is not None
    assert task.done()  # stopped on the way out


async def test_a_row_that_no_longer_reads_as_an_event_fails_alone(tmp_path):
    good, spoiled = payment(21), payment(22)
    received = []

    async def handle(event):
        received.append(event.get_id())

    bus = MemoryBus()
    await bus.subscribe("#", handle, consumer="test")
    with database("sqlite", tmp_path) as engine:
        with engine.begin() as conn:
            record(conn, good)
            record(conn, spoiled)
            conn.execute(OUTBOX.update().where(OUTBOX.c.id == spoiled.get_id()).values(data="{"))
        report = await Dispatcher(engine, bus).dispatch_once()
        await bus.drain()
        rows = {r["id"]: r for r in outbox_rows(engine)}

    assert (report.delivered, report.failed) == (1, 1) and received == [good.get_id()]
    bad = rows[spoiled.get_id()]
    assert bad["attempts"] == 1 and "JSONDecodeError" in bad["last_error"]
    assert bad["dispatched_at"] is None and bad["claimed_by"] is None


@DATABASES
async def test_purge_forgets_old_deliveries_and_dedup_records_but_never_pending_events(
    kind, tmp_path
):
    from services.events.consumer import consume_once
    from services.events.retention import purge

    start = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    bus = MemoryBus()
    with (
        database(kind, tmp_path) as engine,
        time_machine.travel(start, tick=False) as traveller,
    ):
        old_delivered, old_pending = payment(31), payment(32)
        with engine.begin() as conn:
            record(conn, old_delivered)
        await Dispatcher(engine, bus).drain()
        consume_once(engine, "ledger", old_delivered, lambda conn, e: None)
        with engine.begin() as conn:
            record(conn, old_pending)
            conn.execute(
                OUTBOX.update()
                .where(OUTBOX.c.id == old_pending.get_id())
                .values(available_at=datetime(2027, 1, 1))  # backing off for a long time
            )
        traveller.move_to(start + timedelta(days=20))
        recent = payment(33)
        with engine.begin() as conn:
            record(conn, recent)
        await Dispatcher(engine, bus).drain()
        consume_once(engine, "ledger", recent, lambda conn, e: None)
        traveller.move_to(start + timedelta(days=25))
        purged = purge(engine, timedelta(days=7))
        left = {r["id"] for r in outbox_rows(engine)}
        with engine.connect() as conn:
            kept = set(conn.execute(select(ProcessedEvent.event_id)).scalars())

    assert (purged.dispatched, purged.processed) == (1, 1)
    assert left == {old_pending.get_id(), recent.get_id()}
    assert kept == {recent.get_id()}


@DATABASES
async def test_outbox_status_counts_what_waits_and_why(kind, tmp_path):
    from services.events.status import outbox_status

    start = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    down = MemoryBus()
    await down.close()
    with (
        database(kind, tmp_path) as engine,
        time_machine.travel(start, tick=False) as traveller,
    ):
        with engine.begin() as conn:
            record(conn, payment(41))  # delivered
        await Dispatcher(engine, MemoryBus()).drain()
        traveller.move_to(start + timedelta(minutes=1))
        with engine.begin() as conn:
            record(conn, payment(42))  # refused once, backing off
        await Dispatcher(engine, down).drain()
        traveller.move_to(start + timedelta(minutes=2))
        with engine.begin() as conn:
            record(conn, payment(43))  # not tried yet
        traveller.move_to(start + timedelta(minutes=3))
        status = outbox_status(engine)
        age = status.oldest_pending_age_s

    assert (status.pending, status.retrying, status.dispatched) == (2, 1, 1)
    assert status.oldest_pending == datetime(2026, 12, 4, 8, 1)
    assert age == 120.0
    assert "closed" in status.last_error
