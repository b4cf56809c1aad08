"""A small, exact set of books for the trading service's tests: who holds what, at what price.

Built on a migrated database (SQLite file or a fresh PostgreSQL database) so the tests run the
real schema; every starting cash balance is backed by a deposit in the ledger, so the books
reconcile from the first row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, insert, select, update

from services.db import models as m
from services.db.migrate import upgrade
from services.identity import Caller, Role

OPENED = datetime(2026, 1, 5, 12, 0)
IN_SESSION = datetime(2026, 12, 7, 15, 0)  # a Monday, 10:00 in New York (UTC-5)
SATURDAY = datetime(2026, 12, 5, 15, 0)
WEEKDAY_EVENING = datetime(2026, 12, 8, 1, 0)  # Monday 20:00 in New York
PRICES = {"AAPL": 100.0, "BTCUSD": 50_000.0, "HALT": 10.0, "MSFT": 300.0}

ALICE, BOB, STAFF, NO_KYC, KYC_REJECTED, KYC_EXPIRED, CAROL = 1, 2, 3, 4, 5, 6, 7


@dataclass(frozen=True)
class Accounts:
    alice_cash: int = 1
    alice_crypto: int = 2
    alice_margin_suspended: int = 3
    bob_cash: int = 4
    no_kyc_cash: int = 5
    rejected_cash: int = 6
    expired_cash: int = 7
    carol_cash: int = 8
    carol_margin: int = 9


ACCOUNTS = Accounts()


def customer(user_id: int) -> Caller:
    return Caller(user_id=user_id, role=Role.CUSTOMER)


SUPPORT = Caller(user_id=STAFF, role=Role.SUPPORT)


def build(engine: Engine, *, alice_cash: float = 10_000.0) -> None:
    """Migrate and load the books. Alice holds 10 AAPL bought at 90 in her cash account."""
    upgrade(engine)
    users = [
        (ALICE, "standard", "customer"),
        (BOB, "standard", "customer"),
        (STAFF, "standard", "support"),
        (NO_KYC, "standard", "customer"),
        (KYC_REJECTED, "standard", "customer"),
        (KYC_EXPIRED, "standard", "customer"),
        (CAROL, "gold", "customer"),
    ]
    kyc = [
        (ALICE, "approved", datetime(2099, 1, 1)),
        (BOB, "approved", datetime(2099, 1, 1)),
        (KYC_REJECTED, "approved", datetime(2099, 1, 1)),
        (KYC_REJECTED, "rejected", None),  # the latest row is the one that counts
        (KYC_EXPIRED, "approved", datetime(2026, 6, 1)),
        (CAROL, "approved", datetime(2099, 1, 1)),
    ]
    accounts = [
        (ACCOUNTS.alice_cash, ALICE, "cash", "active", alice_cash),
        (ACCOUNTS.alice_crypto, ALICE, "crypto", "active", 5_000.0),
        (ACCOUNTS.alice_margin_suspended, ALICE, "margin", "suspended", 1_000.0),
        (ACCOUNTS.bob_cash, BOB, "cash", "active", 2_000.0),
        (ACCOUNTS.no_kyc_cash, NO_KYC, "cash", "active", 2_000.0),
        (ACCOUNTS.rejected_cash, KYC_REJECTED, "cash", "active", 2_000.0),
        (ACCOUNTS.expired_cash, KYC_EXPIRED, "cash", "active", 2_000.0),
        (ACCOUNTS.carol_cash, CAROL, "cash", "active", 3_000.0),
        (ACCOUNTS.carol_margin, CAROL, "margin", "active", 1_000.0),
    ]
    with engine.begin() as conn:
        conn.execute(
            insert(m.User),
            [
                dict(
                    id=uid,
                    email=f"user{uid}@example.com",
                    full_name=f"User {uid}",
                    country="US",
                    role=role,
                    tier=tier,
                    status="active",
                    created_at=OPENED,
                )
                for uid, tier, role in users
            ],
        )
        conn.execute(
            insert(m.KycVerification),
            [
                dict(user_id=uid, level="basic", status=status, expires_at=expires)
                for uid, status, expires in kyc
            ],
        )
        conn.execute(
            insert(m.TradingAccount),
            [
                dict(
                    id=aid,
                    user_id=uid,
                    account_number=f"TA{aid:08d}",
                    account_type=kind,
                    base_currency="USD",
                    status=status,
                    cash_balance=cash,
                    opened_at=OPENED,
                )
                for aid, uid, kind, status, cash in accounts
            ],
        )
        conn.execute(
            insert(m.Transaction),
            [
                dict(
                    user_id=uid,
                    account_id=aid,
                    type="deposit",
                    amount=cash + (900.0 if aid == ACCOUNTS.alice_cash else 0.0),
                    currency="USD",
                    executed_at=OPENED,
                )
                for aid, uid, _, _, cash in accounts
            ],
        )
        conn.execute(
            insert(m.Transaction),
            [
                dict(
                    user_id=ALICE,
                    account_id=ACCOUNTS.alice_cash,
                    type="buy",
                    symbol="AAPL",
                    quantity=10,
                    price=90.0,
                    amount=-900.0,
                    currency="USD",
                    executed_at=OPENED,
                )
            ],
        )
        conn.execute(
            insert(m.Position).values(
                user_id=ALICE,
                account_id=ACCOUNTS.alice_cash,
                symbol="AAPL",
                quantity=10,
                avg_cost=90.0,
                updated_at=OPENED,
            )
        )
        conn.execute(
            insert(m.Instrument),
            [
                dict(symbol="AAPL", asset_class="equity", tradable=True, currency="USD"),
                dict(symbol="MSFT", asset_class="equity", tradable=True, currency="USD"),
                dict(symbol="BTCUSD", asset_class="crypto", tradable=True, currency="USD"),
                dict(symbol="HALT", asset_class="equity", tradable=False, currency="USD"),
            ],
        )
        conn.execute(
            insert(m.MarketPrice),
            [
                dict(
                    symbol=symbol,
                    price_date=OPENED.date(),
                    open=price,
                    high=price,
                    low=price,
                    close=price,
                    volume=1000,
                )
                for symbol, price in PRICES.items()
            ],
        )


class MovingPrices:
    """A PriceSource whose prices a test sets, as the market-data pipeline's quotes would."""

    def __init__(self, prices: dict[str, float] | None = None):
        self.prices = dict(PRICES if prices is None else prices)

    def latest(self, symbol: str) -> float | None:
        return self.prices.get(symbol)


def snapshot(engine: Engine) -> dict[str, object]:
    """Everything an order could change, to compare before and after a refusal."""
    with engine.connect() as conn:
        counts = {
            table.__tablename__: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (m.Order, m.Transaction, m.Position)
        }
        cash = dict(conn.execute(select(m.TradingAccount.id, m.TradingAccount.cash_balance)).all())
        orders = conn.execute(
            select(m.Order.id, m.Order.status, m.Order.filled_quantity).order_by(m.Order.id)
        ).all()
        held = conn.execute(
            select(m.Position.account_id, m.Position.symbol, m.Position.quantity).order_by(
                m.Position.id
            )
        ).all()
    return {"counts": counts, "cash": cash, "orders": orders, "positions": held}


def audit_rows(engine: Engine, action: str | None = None) -> list[dict]:
    table = m.AuditLog.__table__
    query = select(table).order_by(table.c.id)
    if action:
        query = query.where(table.c.action == action)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def set_status(engine: Engine, account_id: int, status: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(m.TradingAccount).where(m.TradingAccount.id == account_id).values(status=status)
        )
