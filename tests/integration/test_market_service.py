"""`MarketData` on a real SQLite database: quotes, bar history, alerts and who may touch them,
and the write path (a bar file through the pipeline into the tables, crossed orders handed on)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from cli.main import app
from services.db.engines import make_engine
from services.db.models import AuditLog, PriceAlert, PriceBar, Quote
from services.errors import AssistantError
from services.identity import Caller, Role
from services.market.events import NS_PER_S, Events
from services.market.loader import load_bar_file
from services.market.service import MarketData
from services.settings import get_settings
from tests.conftest import make_settings
from tests.integration.market_db import bar_csv, seed

BARS = bar_csv(
    [
        "AAPL,2026-12-01T14:30:00,100,101,98,100.5,400",  # ticks 100, 98, 101, 100.5
        "AAPL,2026-12-01T14:31:00,100.5,100.8,100.2,100.6,200",
        "MSFT,2026-12-01T14:30:00,400,401,379,390,100",  # ticks 400, 401, 379, 390
    ]
)


@pytest.fixture
def db(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'market.db'}")
    seeded = seed(engine)
    yield engine, seeded
    engine.dispose()


@pytest.fixture
def handed() -> list[list[tuple[int, float]]]:
    """What the trading service would have been given, call by call."""
    return []


@pytest.fixture
def market(db, tmp_path, handed):
    engine, _ = db
    settings = make_settings(tmp_path, market_alerts_per_user=2)
    return MarketData(engine, settings, on_triggered=handed.append)


def customer(user_id: int) -> Caller:
    return Caller(user_id=user_id, role=Role.CUSTOMER)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bars.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _ingest(market: MarketData, tmp_path: Path, text: str):
    return market.ingest(load_bar_file(_write(tmp_path, text), market.symbols))


def test_a_bar_file_becomes_quotes_bars_fills_and_fired_alerts(market, db, tmp_path, handed):
    engine, s = db
    mine = market.create_alert(customer(s.alice), "aapl", "above", 100.7)
    waiting = market.create_alert(customer(s.bob), "AAPL", "below", 50)
    gone = market.create_alert(customer(s.bob), "MSFT", "above", 400.5)
    market.delete_alert(customer(s.bob), gone.id)  # 401 would have fired it

    applied = _ingest(market, tmp_path, BARS)

    # limits at their limit, the stop at the price that crossed it; in event order
    assert handed == [[(s.alice_limit, 99.0), (s.bob_limit, 98.5), (s.alice_stop, 379.0)]]
    assert applied.orders_triggered == 3 and applied.alerts_fired == 1
    aapl = market.quote("AAPL")
    assert (aapl.price, aapl.volume, aapl.as_of) == (100.6, 600, datetime(2026, 12, 1, 14, 31, 45))
    assert market.quote("msft").price == 390
    window = (datetime(2026, 12, 1, 14), datetime(2026, 12, 1, 15))
    minutes = market.history("AAPL", "1m", *window)
    assert [(b.start.minute, b.open, b.high, b.low, b.close, b.volume) for b in minutes] == [
        (30, 100, 101, 98, 100.5, 400),
        (31, 100.5, 100.8, 100.2, 100.6, 200),
    ]
    (hour,) = market.history("AAPL", "1h", *window)
    assert (hour.open, hour.high, hour.low, hour.close, hour.volume) == (100, 101, 98, 100.6, 600)
    assert len(market.history("MSFT", "1d", datetime(2026, 12, 1), datetime(2026, 12, 2))) == 1

    alerts = {a.id: a for a in market.list_alerts(Caller(user_id=s.staff, role=Role.SUPPORT))}
    assert alerts[mine.id].status == "fired" and alerts[mine.id].fired_price == 101
    assert alerts[mine.id].fired_at == datetime(2026, 12, 1, 14, 30, 30)
    assert alerts[waiting.id].status == "active"
    assert gone.id not in alerts  # deleted: listed nowhere, and it did not fire
    with engine.connect() as conn:
        assert conn.scalar(select(PriceAlert.status).where(PriceAlert.id == gone.id)) == "deleted"

    # the same levels crossed again: nothing fires twice, no order is handed on twice
    again = _ingest(market, tmp_path, bar_csv(["AAPL,2026-12-01T14:32:00,100,102,97,99,10"]))
    assert again.alerts_fired == 0 and again.orders_triggered == 0
    assert len(handed) == 1
    assert market.list_alerts(customer(s.alice))[0].fired_price == 101


def test_a_customer_sees_and_deletes_only_their_own_alerts(market, db):
    engine, s = db
    alice, bob = customer(s.alice), customer(s.bob)
    hers = market.create_alert(alice, "AAPL", "above", 120)
    his = market.create_alert(bob, "MSFT", "below", 300)
    assert [a.id for a in market.list_alerts(alice)] == [hers.id]
    assert [a.id for a in market.list_alerts(bob)] == [his.id]
    staff = Caller(user_id=s.staff, role=Role.SUPPORT)
    assert {a.id for a in market.list_alerts(staff)} == {hers.id, his.id}

    with pytest.raises(AssistantError) as caught:
        market.delete_alert(bob, hers.id)
    assert (caught.value.code, caught.value.status) == ("unknown_alert", 404)
    assert market.delete_alert(alice, hers.id).status == "deleted"
    with pytest.raises(AssistantError, match="no alert"):
        market.delete_alert(alice, hers.id)  # already gone
    with pytest.raises(AssistantError, match="no alert"):
        market.delete_alert(alice, 9999)
    assert market.delete_alert(staff, his.id).status == "deleted"  # staff may remove any
    with engine.connect() as conn:
        actions = conn.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions.count("market.alert_created") == 2
    assert actions.count("market.alert_deleted") == 2


@pytest.mark.parametrize(
    "symbol, direction, threshold, code",
    [
        ("AAPL", "sideways", 10, "invalid_alert"),
        ("AAPL", "above", -1, "invalid_alert"),
        ("AAPL", "above", float("nan"), "invalid_alert"),
        ("no such!", "above", 1, "invalid_alert"),
        ("ZZZZ", "above", 1, "unknown_symbol"),
    ],
)
def test_a_bad_alert_is_refused_and_not_stored(market, db, symbol, direction, threshold, code):
    engine, s = db
    with pytest.raises(AssistantError) as caught:
        market.create_alert(customer(s.alice), symbol, direction, threshold)
    assert caught.value.code == code
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(PriceAlert)) == 0


def test_alert_limits_and_the_operator(market, db):
    _, s = db
    alice = customer(s.alice)
    market.create_alert(alice, "AAPL", "above", 110)
    market.create_alert(alice, "AAPL", "above", 111)
    with pytest.raises(AssistantError) as caught:
        market.create_alert(alice, "AAPL", "above", 112)
    assert (caught.value.code, caught.value.status) == ("too_many_alerts", 409)
    with pytest.raises(AssistantError) as caught:
        market.create_alert(Caller(user_id=None, role=Role.ADMIN), "AAPL", "above", 1)
    assert caught.value.code == "alert_needs_user"


def test_reads_refuse_what_they_cannot_answer(market):
    with pytest.raises(AssistantError) as caught:
        market.quote("NOSUCH")  # no quote and no daily close either
    assert (caught.value.code, caught.value.status) == ("unknown_symbol", 404)
    day = (datetime(2026, 12, 1), datetime(2026, 12, 2))
    with pytest.raises(AssistantError) as caught:
        market.history("AAPL", "5m", *day)
    assert caught.value.code == "invalid_interval"
    with pytest.raises(AssistantError) as caught:
        market.history("AAPL", "1d", day[1], day[0])
    assert caught.value.code == "invalid_range"


@pytest.fixture
def var_dir(tmp_path, monkeypatch):
    var = tmp_path / "var"
    var.mkdir()
    monkeypatch.setenv("VAR_DIR", str(var))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield var
    get_settings.cache_clear()


def test_market_load_stores_a_good_file_and_nothing_of_a_bad_one(var_dir, tmp_path):
    engine = make_engine(f"sqlite:///{(var_dir / 'trading_assist.db').resolve()}")
    seed(engine)
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(BARS, encoding="utf-8")
    bad.write_text(
        bar_csv(
            ["IBM,2026-12-02T14:30:00,150,151,149,150,10", "IBM,2026-12-02T14:31:00,1,x,1,1,1"]
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["market", "load", str(good)])
    assert result.exit_code == 0, result.output
    assert "12 events" in result.output and "3 orders triggered" in result.output

    def counts() -> tuple[int, int]:
        with engine.connect() as conn:
            return (
                conn.scalar(select(func.count()).select_from(Quote)),
                conn.scalar(select(func.count()).select_from(PriceBar)),
            )

    before = counts()
    assert before == (2, 2 + 1 + 1 + 1 + 1 + 1)  # AAPL: 2 minutes, 1 hour, 1 day; MSFT: 1 each
    result = CliRunner().invoke(app, ["market", "load", str(bad)])
    assert result.exit_code == 2
    assert "bad.csv: row 3: high 'x' is not a number" in result.output
    assert counts() == before
    engine.dispose()


def test_a_stream_that_goes_back_in_time_is_refused_before_any_batch_is_stored(db, tmp_path):
    engine, _ = db
    market = MarketData(engine, make_settings(tmp_path, market_batch_size=4))
    market.ingest(load_bar_file(_write(tmp_path, BARS), market.symbols))
    with engine.connect() as conn:
        before = conn.scalar(select(func.count()).select_from(PriceBar))
    ibm = market.symbols.id("IBM")
    minutes = [40, 41, 42, 43, 44, 10]  # the first batch of 4 is fine, the second goes back
    start = datetime(2026, 12, 1, 14, tzinfo=UTC).timestamp()
    late = Events.of(
        [ibm] * 6, [int((start + m * 60) * NS_PER_S) for m in minutes], [150.0] * 6, [1.0] * 6
    )
    with pytest.raises(AssistantError) as caught:
        market.ingest(late)
    assert caught.value.code == "events_invalid"
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(PriceBar)) == before
        assert (
            conn.scalar(select(func.count()).select_from(Quote).where(Quote.symbol == "IBM")) == 0
        )


def test_a_new_process_extends_the_stored_bars_and_refuses_older_prices(db, tmp_path):
    engine, _ = db
    first = MarketData(engine, make_settings(tmp_path))
    first.ingest(load_bar_file(_write(tmp_path, BARS), first.symbols))
    later = MarketData(engine, make_settings(tmp_path))  # as a new process would start
    next_minute = bar_csv(["AAPL,2026-12-01T14:32:00,100.6,104,100.6,103,50"])
    later.ingest(load_bar_file(_write(tmp_path, next_minute), later.symbols, bar_seconds=60))
    window = (datetime(2026, 12, 1, 14), datetime(2026, 12, 1, 15))
    (hour,) = later.history("AAPL", "1h", *window)
    assert (hour.open, hour.high, hour.low, hour.close, hour.volume) == (100, 104, 98, 103, 650)
    assert len(later.history("AAPL", "1m", *window)) == 3
    assert later.quote("AAPL").price == 103

    again = MarketData(engine, make_settings(tmp_path))
    morning = bar_csv(["AAPL,2026-12-01T09:00:00,1,1,1,1,1"])
    with pytest.raises(AssistantError) as caught:
        again.ingest(load_bar_file(_write(tmp_path, morning), again.symbols, bar_seconds=60))
    assert "start at 2026-12-01T09:00:00Z, before the last price already processed " in str(
        caught.value.message
    )
    assert "(2026-12-01T14:32:45Z)" in caught.value.message
