import re
import sqlite3
from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import text

from cli.setup import MARKET_SAMPLE
from services import clock
from services.db.engines import make_engine
from services.db.migrate import upgrade
from services.demo_data.generator import DemoDataBuilder, load_demo_data
from services.semantic.loader import load_semantic_model


def test_same_seed_same_data():
    first = DemoDataBuilder(3, date(2026, 6, 30), 40, None).build()
    second = DemoDataBuilder(3, date(2026, 6, 30), 40, None).build()
    other = DemoDataBuilder(4, date(2026, 6, 30), 40, None).build()
    assert first == second
    assert first["orders"] != other["orders"]


def test_positions_and_cash_agree_with_the_ledger(demo_engine):
    with demo_engine.connect() as conn:
        fills = conn.execute(
            text(
                "SELECT account_id, symbol, "
                "SUM(CASE type WHEN 'buy' THEN quantity ELSE -quantity END) FROM transactions "
                "WHERE type IN ('buy', 'sell') GROUP BY account_id, symbol"
            )
        ).all()
        positions = {
            (a, s): q
            for a, s, q in conn.execute(text("SELECT account_id, symbol, quantity FROM positions"))
        }
        cash = dict(
            conn.execute(
                text(
                    "SELECT a.id, a.cash_balance - COALESCE(SUM(t.amount), 0) "
                    "FROM trading_accounts a LEFT JOIN transactions t ON t.account_id = a.id "
                    "GROUP BY a.id"
                )
            ).all()
        )
    held = {(a, s): q for a, s, q in fills if q > 1e-6}
    assert held.keys() == positions.keys()
    assert all(abs(held[k] - positions[k]) < 1e-4 for k in held)
    assert max(abs(v) for v in cash.values()) < 0.05
    assert min(positions.values()) > 0


def test_every_state_is_represented(demo_engine):
    with demo_engine.connect() as conn:

        def values(sql):
            return {r[0] for r in conn.execute(text(sql))}

        assert values("SELECT status FROM kyc_verifications") == {
            "not_started",
            "pending",
            "in_review",
            "approved",
            "rejected",
            "expired",
        }
        assert values("SELECT status FROM orders") == {
            "open",
            "partially_filled",
            "filled",
            "cancelled",
            "rejected",
        }
        assert values("SELECT role FROM users") == {"customer", "support", "admin"}
        assert values(
            "SELECT format FROM (SELECT substr(filename, instr(filename, '.') + 1) "
            "AS format FROM documents)"
        ) == {"pdf", "docx", "html", "md"}
        assert values("SELECT visibility FROM documents") == {"public", "internal"}


def test_orders_span_the_last_twelve_months(demo_engine):
    with demo_engine.connect() as conn:
        first, last, count = conn.execute(
            text("SELECT MIN(created_at), MAX(created_at), COUNT(*) FROM orders")
        ).one()
    assert count > 2000
    assert (clock.today() - date.fromisoformat(first[:10])).days <= 366
    assert (clock.today() - date.fromisoformat(last[:10])).days <= 3


def test_real_market_data_is_replayed(demo_engine):
    sample = MARKET_SAMPLE
    with sqlite3.connect(f"file:{sample}?mode=ro", uri=True) as real:
        real_closes = [
            r[0]
            for r in real.execute(
                "SELECT close FROM ohlcv_daily WHERE symbol = 'SPY' ORDER BY bar_date DESC LIMIT 30"
            )
        ]
    with demo_engine.connect() as conn:
        spy = conn.execute(
            text(
                "SELECT price_date, close FROM market_prices WHERE symbol = 'SPY' "
                "ORDER BY price_date DESC LIMIT 30"
            )
        ).all()
        btc_days = [
            r[0]
            for r in conn.execute(
                text("SELECT price_date FROM market_prices WHERE symbol = 'BTCUSD'")
            )
        ]
    assert [c for _, c in spy] == real_closes  # the real path, moved onto recent days
    assert all(date.fromisoformat(str(d)[:10]).weekday() < 5 for d, _ in spy)
    assert any(date.fromisoformat(str(d)[:10]).weekday() >= 5 for d in btc_days)


def test_reload_replaces_everything_atomically(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade(engine)
    first = load_demo_data(engine, seed=1, as_of=date(2026, 1, 31), users=20)
    second = load_demo_data(engine, seed=1, as_of=date(2026, 1, 31), users=20)
    assert first.rows == second.rows
    with engine.connect() as conn:
        counts = defaultdict(
            int, {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar() for t in first.rows}
        )
    assert {t: counts[t] for t in first.rows} == first.rows
    engine.dispose()


def test_a_database_without_examples_gets_the_seeds(tmp_path):
    from services.demo_data.generator import seed_examples
    from services.sql_examples import ensure_seeded, load_examples

    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade(engine)
    seeds = seed_examples(datetime(2026, 1, 1))
    assert ensure_seeded(engine, seeds) == len(seeds)
    assert ensure_seeded(engine, seeds) == 0  # only once
    assert load_examples(engine)[0][1:] == (seeds[0]["question"], seeds[0]["sql"])
    engine.dispose()


def test_timestamps_are_stored_as_the_semantic_model_says(demo_engine):
    """The model compares and slices timestamp text by the format the semantic model's
    conventions give."""
    (convention,) = [c.text for c in load_semantic_model().conventions if c.name == "stored_time"]
    stated = re.search(r"as text '([^']+)'", convention).group(1)
    pattern = re.escape(stated)
    for field, digits in (("YYYY", 4), ("MM", 2), ("DD", 2), ("HH", 2), ("SS", 2), ("ffffff", 6)):
        pattern = pattern.replace(field, rf"\d{{{digits}}}")
    with demo_engine.connect() as conn:
        stored = [
            conn.execute(text(f"SELECT {column} FROM {table} LIMIT 1")).scalar_one()
            for table, column in (("orders", "created_at"), ("transactions", "executed_at"))
        ]
    assert all(re.fullmatch(pattern, value) for value in stored), (stated, stored)
