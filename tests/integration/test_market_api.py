"""Market data over HTTP through httpx: quotes, bars, and alerts each customer owns."""

from __future__ import annotations

import httpx
import pytest

from api.main import create_app
from graphs.assistant import Assistant
from services.db.engines import make_engine
from services.llm.scripted import ScriptedChatModel, replies
from services.market.loader import load_bar_file
from tests.conftest import make_settings
from tests.integration.market_db import bar_csv, seed


@pytest.fixture
async def api(tmp_path):
    settings = make_settings(tmp_path)
    engine = make_engine(settings.database_url)
    seeded = seed(engine)
    assistant = Assistant(settings, ScriptedChatModel(responder=replies("unused")))
    app = create_app(assistant)
    market = app.state.market
    path = tmp_path / "bars.csv"
    path.write_text(bar_csv(["AAPL,2026-12-01T14:30:00,100,101,98,100.5,400"]))
    market.ingest(load_bar_file(path, market.symbols, bar_seconds=60))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client, seeded
    await assistant.aclose()
    engine.dispose()


async def test_quotes_and_bars(api):
    client, _ = api
    quote = (await client.get("/v1/quotes/aapl")).json()
    assert (quote["symbol"], quote["price"], quote["volume"]) == ("AAPL", 100.5, 400)
    window = {"start": "2026-12-01T00:00:00Z", "end": "2026-12-02T00:00:00Z"}
    day = (await client.get("/v1/bars/AAPL", params=window)).json()
    assert [(b["open"], b["high"], b["low"], b["close"]) for b in day] == [(100, 101, 98, 100.5)]
    minutes = (await client.get("/v1/bars/AAPL", params={**window, "interval": "1m"})).json()
    assert len(minutes) == 1
    missing = await client.get("/v1/quotes/ZZZ")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown_symbol"
    bad = await client.get("/v1/bars/AAPL", params={**window, "interval": "5m"})
    assert bad.status_code == 422


async def test_alerts_belong_to_their_owner(api):
    client, s = api
    alice, bob = {"X-User-Id": str(s.alice)}, {"X-User-Id": str(s.bob)}
    made = await client.post(
        "/v1/alerts", json={"symbol": "AAPL", "direction": "above", "threshold": 120}, headers=alice
    )
    assert made.status_code == 201
    alert = made.json()
    assert (alert["user_id"], alert["status"]) == (s.alice, "active")
    assert [a["id"] for a in (await client.get("/v1/alerts", headers=alice)).json()] == [
        alert["id"]
    ]
    assert (await client.get("/v1/alerts", headers=bob)).json() == []
    theirs = await client.delete(f"/v1/alerts/{alert['id']}", headers=bob)
    assert theirs.status_code == 404 and theirs.json()["error"]["code"] == "unknown_alert"
    mine = await client.delete(f"/v1/alerts/{alert['id']}", headers=alice)
    assert mine.status_code == 200 and mine.json()["status"] == "deleted"
    invalid = await client.post(
        "/v1/alerts", json={"symbol": "AAPL", "direction": "up", "threshold": 1}, headers=alice
    )
    assert invalid.status_code == 422
    assert (await client.get("/v1/alerts", headers=alice)).json() == []
