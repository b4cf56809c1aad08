"""`trading-assist events ...`, `doctor` and `bench outbox` through the CLI, on a real SQLite
database and the real RabbitMQ."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

import aio_pika
import pytest
import time_machine
from typer.testing import CliRunner

from cli.doctor import diagnose
from cli.main import app
from services import clock
from services.events.outbox import record
from services.settings import get_settings
from tests.conftest import make_settings
from tests.integration.events.helpers import (
    DEAD_RABBIT_URL,
    RABBIT_URL,
    rabbit_bus,
    registrations,
    sqlite_engine,
)

pytestmark = pytest.mark.timeout(180)
runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    """A migrated SQLite database in VAR_DIR with three events waiting, and a fresh exchange."""
    engine = sqlite_engine(tmp_path)
    events = registrations(3)
    with engine.begin() as conn:
        for event in events:
            record(conn, event)
    engine.dispose()
    exchange = f"test-events-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'events.db'}")
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    monkeypatch.setenv("EVENTS_EXCHANGE", exchange)
    monkeypatch.setenv("EVENTS_PUBLISH_TIMEOUT_S", "3")
    get_settings.cache_clear()
    yield exchange, events
    get_settings.cache_clear()


async def _bind_queue(exchange: str) -> None:
    connection = await aio_pika.connect(RABBIT_URL)
    async with connection:
        channel = await connection.channel()
        ex = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(f"{exchange}.cli-test", durable=True)
        await queue.bind(ex, routing_key="#")


async def _drain_and_delete(exchange: str) -> list[str]:
    """Message ids the queue bound by `_bind_queue` received; then the queue and exchange go."""
    connection = await aio_pika.connect(RABBIT_URL)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(f"{exchange}.cli-test", durable=True)
        received = []
        while (message := await queue.get(no_ack=True, fail=False, timeout=5)) is not None:
            received.append(message.message_id)
        await queue.delete(if_unused=False, if_empty=False)
        await channel.exchange_delete(exchange)
        return received


def test_dispatch_once_delivers_the_outbox_then_status_shows_it(cli_env, monkeypatch):
    exchange, events = cli_env
    asyncio.run(_bind_queue(exchange))
    try:
        monkeypatch.setenv("MESSAGE_BUS_URL", DEAD_RABBIT_URL)
        get_settings.cache_clear()
        down = runner.invoke(app, ["events", "dispatch", "--once"])
        waiting = runner.invoke(app, ["events", "status", "--json"])

        monkeypatch.setenv("MESSAGE_BUS_URL", RABBIT_URL)
        get_settings.cache_clear()
        early = runner.invoke(app, ["events", "dispatch", "--once"])
        with time_machine.travel(clock.now() + timedelta(seconds=2)):  # past the 1 s backoff
            up = runner.invoke(app, ["events", "dispatch", "--once"])
        done = runner.invoke(app, ["events", "status", "--json"])
    finally:
        received = asyncio.run(_drain_and_delete(exchange))

    assert down.exit_code == 1, down.output
    assert "delivered 0, failed 3, still pending 3 (3 backing off)" in down.stdout
    before = json.loads(waiting.stdout)
    assert (before["pending"], before["retrying"], before["dispatched"]) == (3, 3, 0)
    assert "ConnectionError" in before["last_error"]
    assert early.exit_code == 0 and "delivered 0, failed 0, still pending 3" in early.stdout
    assert up.exit_code == 0, up.output
    assert "delivered 3, failed 0, still pending 0" in up.stdout
    assert json.loads(done.stdout)["dispatched"] == 3
    assert sorted(received) == sorted(e.get_id() for e in events)


def test_dead_letters_command_lists_what_a_consumer_gave_up_on(cli_env, monkeypatch):
    exchange, events = cli_env
    monkeypatch.setenv("MESSAGE_BUS_URL", RABBIT_URL)
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal: no cell is wrapped
    get_settings.cache_clear()

    async def scenario():
        async with rabbit_bus(exchange=exchange, consumers=("billing",)) as bus:

            async def broken(event):
                raise RuntimeError("ledger offline")

            await bus.subscribe("#", broken, consumer="billing")
            await bus.publish(events[0])
            for _ in range(200):
                if await bus.dead_letters("billing"):
                    break
                await asyncio.sleep(0.05)
            return await asyncio.to_thread(
                runner.invoke, app, ["events", "dead-letters", "billing"]
            )

    result = asyncio.run(scenario())
    assert result.exit_code == 0, result.output
    assert events[0].get_id() in result.stdout and "ledger offline" in result.stdout


@pytest.mark.parametrize(
    ("url", "ok", "status"),
    [
        ("memory://", True, "in-process"),
        (RABBIT_URL, True, "answers"),
        (DEAD_RABBIT_URL, False, "Connect call failed"),
        ("kafka://127.0.0.1:9092", False, "is not memory://"),
    ],
)
def test_doctor_reports_the_configured_bus_and_whether_it_answers(url, ok, status, tmp_path):
    settings = make_settings(
        tmp_path,
        message_bus_url=url,
        events_exchange=f"test-events-{uuid.uuid4().hex[:12]}",
        events_publish_timeout_s=3,
    )
    [check] = [c for c in diagnose(settings) if c.part == "message bus"]
    assert check.ok is ok and status in check.status
    assert "guest" not in check.configured
    if url == RABBIT_URL:  # the probe declared the exchange: remove it
        asyncio.run(_delete_exchange(settings.events_exchange))


async def _delete_exchange(name: str) -> None:
    connection = await aio_pika.connect(RABBIT_URL)
    async with connection:
        channel = await connection.channel()
        await channel.exchange_delete(name)


def test_bench_outbox_runs_small(tmp_path, monkeypatch):
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    monkeypatch.setenv("MESSAGE_BUS_URL", "memory://")
    get_settings.cache_clear()
    try:
        result = runner.invoke(
            app, ["bench", "outbox", "--events", "60", "--amqp-url", RABBIT_URL, "--json"]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [r["bus"] for r in report["results"]] == ["memory://", "RabbitMQ"]
    for row in report["results"]:
        assert row["error"] is None and row["events"] == 60
        assert row["outbox_per_s"] > 0 and row["direct_per_s"] > 0
        assert row["ratio"] == pytest.approx(row["outbox_per_s"] / row["direct_per_s"])
        assert 0 < row["latency_p50_ms"] <= row["latency_p95_ms"]


def test_doctor_shows_what_waits_in_the_outbox(cli_env, monkeypatch):
    monkeypatch.setenv("MESSAGE_BUS_URL", "memory://")
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    [check] = [c for c in diagnose(get_settings()) if c.part == "event outbox"]
    result = runner.invoke(app, ["doctor"])

    assert check.ok and check.status.startswith("3 pending (0 backing off), oldest")
    assert "3 pending (0 backing off)" in result.stdout and "in-process" in result.stdout
