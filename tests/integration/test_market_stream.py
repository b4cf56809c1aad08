"""`/v1/stream` over a real socket: a uvicorn server on 127.0.0.1 and the `websockets` client.
Each user receives the quotes they hold or asked for and their own orders, fills, alerts and
position values, and never another user's."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import select, update
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from api.main import create_app
from graphs.assistant import Assistant
from services.db.engines import make_engine
from services.db.models import Order
from services.identity import Caller
from services.llm.scripted import ScriptedChatModel, replies
from services.market.hub import StreamEvent
from services.market.loader import load_bar_file
from services.market.service import MarketData
from tests.conftest import make_settings
from tests.integration.market_db import bar_csv, seed

BARS = bar_csv(
    [
        "AAPL,2026-12-01T14:30:00,100,101,98,100.5,400",
        "MSFT,2026-12-01T14:30:00,400,401,379,390,100",
    ]
)


@pytest.fixture
async def served(tmp_path: Path):
    settings = make_settings(tmp_path)
    engine = make_engine(settings.database_url)
    seeded = seed(engine)
    assistant = Assistant(settings, ScriptedChatModel(responder=replies("unused")))
    market = MarketData(assistant.engine, settings)

    def fill(orders: list[tuple[int, float]]) -> None:
        """What the integrator connects: the trading service fills the crossed orders and
        publishes each fill to its owner (here the smallest such service)."""
        with engine.begin() as conn:
            for order_id, price in orders:
                owner = conn.scalar(select(Order.user_id).where(Order.id == order_id))
                conn.execute(
                    update(Order)
                    .where(Order.id == order_id)
                    .values(status="filled", filled_quantity=Order.quantity, avg_fill_price=price)
                )
                event = StreamEvent(kind="fill", data={"order_id": order_id, "price": price})
                market.hub.publish_to_user(owner, event)

    market.on_triggered = fill
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(assistant, market=market), host="127.0.0.1", port=0, log_level="warning"
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"ws://127.0.0.1:{port}/v1/stream", market, seeded, tmp_path
    server.should_exit = True
    await task
    engine.dispose()


async def _until_quiet(ws, quiet_s: float = 0.5) -> list[dict]:
    got = []
    while True:
        try:
            got.append(json.loads(await asyncio.wait_for(ws.recv(), quiet_s)))
        except TimeoutError:
            return got


def _ids(events: list[dict], kind: str, key: str) -> set[int]:
    return {e["data"][key] for e in events if e["kind"] == kind}


async def test_each_user_receives_their_own_fills_and_never_another_users(served):
    url, market, s, tmp_path = served
    alice_alert = market.create_alert(Caller(user_id=s.alice), "AAPL", "above", 100.7)
    bob_alert = market.create_alert(Caller(user_id=s.bob), "MSFT", "above", 400.5)
    async with (
        connect(url, additional_headers={"X-User-Id": str(s.alice)}) as alice,
        connect(f"{url}?symbols=ibm", additional_headers={"X-User-Id": str(s.bob)}) as bob,
    ):
        hello_a, hello_b = json.loads(await alice.recv()), json.loads(await bob.recv())
        assert hello_a == {"kind": "subscribed", "symbol": None, "data": {"symbols": ["AAPL"]}}
        assert hello_b["data"]["symbols"] == ["AAPL", "IBM", "MSFT"]  # held, and asked for

        path = tmp_path / "bars.csv"
        path.write_text(BARS, encoding="utf-8")
        await asyncio.to_thread(market.ingest, load_bar_file(path, market.symbols))
        to_alice, to_bob = await _until_quiet(alice), await _until_quiet(bob)

    # Alice: her AAPL limit and her MSFT stop, filled; her alert; her position; AAPL quotes only
    assert _ids(to_alice, "fill", "order_id") == {s.alice_limit, s.alice_stop}
    assert _ids(to_alice, "order", "order_id") == {s.alice_limit, s.alice_stop}
    assert _ids(to_alice, "alert", "alert_id") == {alice_alert.id}
    assert _ids(to_alice, "position", "position_id") == {s.alice_aapl}
    assert {e["symbol"] for e in to_alice if e["kind"] == "quote"} == {"AAPL"}
    fill = next(e for e in to_alice if e["kind"] == "fill" and e["data"]["order_id"] == 1)
    assert fill["data"]["price"] == 99.0
    position = next(e for e in to_alice if e["kind"] == "position")
    assert position["data"]["value"] == 10 * 100.5
    # Bob: only his
    assert _ids(to_bob, "fill", "order_id") == {s.bob_limit}
    assert _ids(to_bob, "alert", "alert_id") == {bob_alert.id}
    assert _ids(to_bob, "position", "position_id") == {s.bob_aapl, s.bob_msft}
    assert {e["symbol"] for e in to_bob if e["kind"] == "quote"} == {"AAPL", "MSFT"}


@pytest.mark.parametrize(
    "query, headers",
    [("", {"X-User-Id": "999"}), ("?symbols=not%20a%20symbol!", {"X-User-Id": "1"})],
)
async def test_an_unknown_user_or_bad_symbols_are_refused_at_the_handshake(served, query, headers):
    url = served[0]
    with pytest.raises(InvalidStatus) as caught:
        async with connect(url + query, additional_headers=headers):
            pass
    assert caught.value.response.status_code == 403


async def test_a_client_too_far_behind_is_closed_after_what_it_was_sent(served):
    url, market, s, _ = served
    market.hub.max_queue = 2
    async with connect(url, additional_headers={"X-User-Id": str(s.alice)}) as alice:
        await alice.recv()  # subscribed

        # published from the server's own loop without yielding: all ten are offered before
        # the stream's sender runs once
        for price in range(10):
            market.hub.publish_quote(
                StreamEvent(kind="quote", symbol="AAPL", data={"price": price})
            )
        prices = [json.loads(await alice.recv())["data"]["price"] for _ in range(2)]
        with pytest.raises(ConnectionClosed):
            await alice.recv()
    assert prices == [0, 1]
    assert alice.close_code == 1013 and "more than 2 events behind" in alice.close_reason
