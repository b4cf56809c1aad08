"""A small database for the market data tests: the schema, two customers and a support user,
their accounts, positions and working orders, and one day of AAPL and MSFT prices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, insert

from services.db.migrate import upgrade
from services.db.models import MarketPrice, Order, Position, TradingAccount, User

WHEN = datetime(2026, 12, 1, 9, 0)


@dataclass(frozen=True)
class Seeded:
    alice: int = 1
    bob: int = 2
    staff: int = 3
    # Alice: AAPL buy limit 99, MSFT sell stop 380 (both working); a filled AAPL limit
    alice_limit: int = 1
    alice_stop: int = 2
    alice_filled: int = 3
    # Bob: AAPL buy limit 98.5, a cancelled AAPL buy limit at 200
    bob_limit: int = 4
    bob_cancelled: int = 5
    alice_aapl: int = 1  # position ids
    bob_aapl: int = 2
    bob_msft: int = 3


def seed(engine: Engine) -> Seeded:
    upgrade(engine)
    s = Seeded()
    with engine.begin() as conn:
        for uid, role in ((s.alice, "customer"), (s.bob, "customer"), (s.staff, "support")):
            conn.execute(
                insert(User).values(
                    id=uid,
                    email=f"u{uid}@example.com",
                    full_name=f"User {uid}",
                    country="GB",
                    role=role,
                    tier="standard",
                    status="active",
                    created_at=WHEN,
                )
            )
            conn.execute(
                insert(TradingAccount).values(
                    id=uid,
                    user_id=uid,
                    account_number=f"ACC{uid}",
                    account_type="cash",
                    base_currency="USD",
                    status="active",
                    cash_balance=10_000,
                    opened_at=WHEN,
                )
            )
        orders = [
            (s.alice_limit, s.alice, "AAPL", "buy", "limit", 99.0, "open"),
            (s.alice_stop, s.alice, "MSFT", "sell", "stop", 380.0, "partially_filled"),
            (s.alice_filled, s.alice, "AAPL", "buy", "limit", 150.0, "filled"),
            (s.bob_limit, s.bob, "AAPL", "buy", "limit", 98.5, "open"),
            (s.bob_cancelled, s.bob, "AAPL", "buy", "limit", 200.0, "cancelled"),
        ]
        for oid, uid, symbol, side, kind, level, status in orders:
            conn.execute(
                insert(Order).values(
                    id=oid,
                    user_id=uid,
                    account_id=uid,
                    symbol=symbol,
                    side=side,
                    order_type=kind,
                    quantity=10,
                    limit_price=level,
                    status=status,
                    filled_quantity=0,
                    created_at=WHEN,
                    updated_at=WHEN,
                )
            )
        for pid, uid, symbol, qty in (
            (s.alice_aapl, s.alice, "AAPL", 10),
            (s.bob_aapl, s.bob, "AAPL", 3),
            (s.bob_msft, s.bob, "MSFT", 2),
        ):
            conn.execute(
                insert(Position).values(
                    id=pid,
                    user_id=uid,
                    account_id=uid,
                    symbol=symbol,
                    quantity=qty,
                    avg_cost=100,
                    updated_at=WHEN,
                )
            )
        for symbol, close in (("AAPL", 100.0), ("MSFT", 400.0)):
            conn.execute(
                insert(MarketPrice).values(
                    symbol=symbol,
                    price_date=date(2026, 11, 30),
                    open=close,
                    high=close,
                    low=close,
                    close=close,
                    volume=1000,
                )
            )
    return s


def bar_csv(rows: list[str]) -> str:
    return "symbol,time,open,high,low,close,volume\n" + "\n".join(rows) + "\n"
