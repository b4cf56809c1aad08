"""Market data on PostgreSQL: migration 0005 builds what the models declare, and the write path
(upserts of quotes and bars, fired alerts, crossed orders) works there as on SQLite."""

from __future__ import annotations

from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from services.db.engines import make_engine
from services.db.models import Base, PriceBar
from services.identity import Caller
from services.market.loader import load_bar_file
from services.market.service import MarketData
from tests.conftest import make_settings
from tests.integration import postgres
from tests.integration.market_db import bar_csv, seed

MARKET_TABLES = {"quotes", "price_bars", "price_alerts"}


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'market.db'}")
        yield engine
        engine.dispose()
        return
    name = postgres.create_database()
    engine = make_engine(postgres.url(name))
    yield engine
    engine.dispose()
    postgres.drop_database(name)


def _market_diffs(engine) -> list:
    def ours(diff) -> bool:
        flat = diff if isinstance(diff, tuple) else diff[0]
        return any(
            getattr(part, "name", None) in MARKET_TABLES
            or getattr(getattr(part, "table", None), "name", None) in MARKET_TABLES
            for part in flat
        )

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return [d for d in compare_metadata(context, Base.metadata) if ours(d)]


def test_the_migration_builds_what_the_models_declare(engine):
    seed(engine)
    assert _market_diffs(engine) == []


def test_a_table_the_migration_lacks_would_be_noticed(engine):
    seed(engine)
    with engine.begin() as conn:
        PriceBar.__table__.drop(conn)
    assert _market_diffs(engine)


def test_bars_are_upserted_and_orders_handed_on(engine, tmp_path):
    s = seed(engine)
    handed: list[list[tuple[int, float]]] = []
    market = MarketData(engine, make_settings(tmp_path), on_triggered=handed.append)
    alert = market.create_alert(Caller(user_id=s.alice), "AAPL", "below", 98.2)
    path = tmp_path / "bars.csv"
    path.write_text(bar_csv(["AAPL,2026-12-01T14:30:00,100,101,98,100.5,400"]))
    market.ingest(load_bar_file(path, market.symbols, bar_seconds=1800))
    # a second file: the same day, the next hour; the day bar is extended in place
    path.write_text(bar_csv(["AAPL,2026-12-01T15:00:00,100.5,103,100.4,102,100"]))
    market.ingest(load_bar_file(path, market.symbols, bar_seconds=1800))

    assert handed == [[(s.alice_limit, 99.0), (s.bob_limit, 98.5)]]
    day = market.history("AAPL", "1d", datetime(2026, 12, 1), datetime(2026, 12, 2))
    assert [(b.open, b.high, b.low, b.close, b.volume) for b in day] == [(100, 103, 98, 102, 500)]
    assert len(market.history("AAPL", "1h", datetime(2026, 12, 1), datetime(2026, 12, 2))) == 2
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(PriceBar)) == 8 + 2 + 1
    fired = market.list_alerts(Caller(user_id=s.alice))[0]
    assert (fired.id, fired.status, fired.fired_price) == (alert.id, "fired", 98)
    assert market.quote("AAPL").as_of == datetime(2026, 12, 1, 15, 22, 30)
