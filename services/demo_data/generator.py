"""A deterministic, realistic demo dataset for the operational schema.

Same seed and same `as_of` day give the same rows. Trades are simulated in time order per account
so that cash balances, positions and the transaction ledger agree with the order fills.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, Integer, Table, delete, insert, text

from services import clock
from services.db import models as m
from services.demo_data.market import CRYPTO, Bar, load_bars

FIRST = [
    "Ava",
    "Liam",
    "Noah",
    "Emma",
    "Olivia",
    "Mason",
    "Sofia",
    "Lucas",
    "Mia",
    "Ethan",
    "Amara",
    "Kenji",
    "Priya",
    "Mateo",
    "Chloe",
    "Omar",
    "Zara",
    "Felix",
    "Ingrid",
    "Tomas",
    "Leila",
    "Arjun",
    "Hana",
    "Diego",
    "Nadia",
    "Viktor",
    "Elena",
    "Samuel",
    "Yara",
    "Jonas",
]
LAST = [
    "Smith",
    "Garcia",
    "Chen",
    "Okafor",
    "Muller",
    "Rossi",
    "Novak",
    "Tanaka",
    "Silva",
    "Haddad",
    "Kowalski",
    "Dubois",
    "Jensen",
    "Patel",
    "Kim",
    "Andersson",
    "Moreau",
    "Costa",
    "Nguyen",
    "Fischer",
    "Ivanova",
    "Lopez",
    "Wright",
    "Sato",
    "Brennan",
]
COUNTRIES = ["GB", "DE", "FR", "US", "NL", "ES", "IT", "SE", "PL", "IE", "SG", "AE"]
EQUITIES = ["SPY", "AAPL", "IBM", "MSFT", "NVDA", "TSLA"]
PLANS = {"basic": 9.0, "pro": 29.0, "premium": 79.0}
KYC_STATES = ["not_started", "pending", "in_review", "approved", "rejected", "expired"]


class DemoSummary(BaseModel):
    """How many rows each table received."""

    seed: int
    as_of: date
    rows: dict[str, int]


@dataclass
class _Book:
    """Running state of one account while its history is simulated."""

    cash: float = 0.0
    holdings: dict[str, list[float]] = field(default_factory=dict)  # symbol -> [qty, avg, last]


class DemoDataBuilder:
    def __init__(self, seed: int, as_of: date, users: int, market_sample: Path | None):
        self.rng = random.Random(seed)
        self.seed = seed
        self.as_of = as_of
        self.n_users = users
        self.market_sample = market_sample
        self.rows: dict[str, list[dict]] = defaultdict(list)
        self.prices: dict[tuple[str, date], Bar] = {}
        self.ids: dict[str, int] = defaultdict(int)

    def build(self) -> dict[str, list[dict]]:
        self._market()
        self._instruments()
        for user_no in range(1, self.n_users + 1):
            self._user(user_no)
        return self.rows

    # -- helpers ---------------------------------------------------------------------------
    def _next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def _add(self, table: str, **values) -> int:
        row_id = self._next_id(table)
        self.rows[table].append({"id": row_id, **values})
        return row_id

    def _moment(self, start: datetime, end: datetime) -> datetime:
        span = max(1, int((end - start).total_seconds()))
        return (start + timedelta(seconds=self.rng.randrange(span))).replace(microsecond=0)

    def _close(self, symbol: str, when: datetime) -> float:
        day = when.date()
        for _ in range(7):
            bar = self.prices.get((symbol, day))
            if bar:
                return bar.close
            day -= timedelta(days=1)
        raise LookupError(f"no price for {symbol} near {when:%Y-%m-%d}")

    # -- tables ----------------------------------------------------------------------------
    def _market(self) -> None:
        for bar in load_bars(self.market_sample, self.as_of, self.rng):
            self.prices[(bar.symbol, bar.day)] = bar
            self._add(
                "market_prices",
                symbol=bar.symbol,
                price_date=bar.day,
                open=bar.open,
                high=bar.high,
                low=bar.low,
                close=bar.close,
                volume=bar.volume,
            )

    def _instruments(self) -> None:
        """Every priced symbol is listed and tradable; draws nothing from the random stream."""
        for symbol in sorted({symbol for symbol, _ in self.prices}):
            self._add(
                "instruments",
                symbol=symbol,
                asset_class="crypto" if symbol in CRYPTO else "equity",
                tradable=True,
                currency="USD",
            )

    def _user(self, user_no: int) -> None:
        """Each user draws from a stream of their own: drawn from one shared stream, a change of
        build day (prices, and so how many orders earlier users could afford) reshuffled who
        has which accounts, KYC state and trades, and a question about one customer's data
        found none on other days."""
        self.rng = rng = random.Random(f"{self.seed}/user/{user_no}")
        now = datetime.combine(self.as_of, time(0))
        role = "admin" if user_no <= 3 else "support" if user_no <= 10 else "customer"
        first, last = rng.choice(FIRST), rng.choice(LAST)
        created = self._moment(now - timedelta(days=3 * 365), now - timedelta(days=20))
        user_id = self._add(
            "users",
            email=f"{first.lower()}.{last.lower()}{user_no}@example.com",
            full_name=f"{first} {last}",
            phone=f"+44 7{rng.randrange(100, 999)} {rng.randrange(100000, 999999)}",
            date_of_birth=date(
                rng.randrange(1950, 2004), rng.randrange(1, 13), rng.randrange(1, 29)
            ),
            country=rng.choice(COUNTRIES),
            role=role,
            tier=rng.choices(["standard", "silver", "gold", "vip"], [60, 25, 11, 4])[0],
            status=rng.choices(["active", "locked", "closed"], [94, 3, 3])[0],
            created_at=created,
        )
        if role != "customer":
            return
        self._kyc(user_id, created, now)
        self._subscription(user_id, created, now)
        kinds = ["cash"] + [k for k, p in (("margin", 0.3), ("crypto", 0.45)) if rng.random() < p]
        for kind in kinds:
            self._account(user_id, kind, created, now)

    def _kyc(self, user_id: int, created: datetime, now: datetime) -> None:
        rng = self.rng
        status = rng.choices(KYC_STATES, [4, 6, 6, 70, 8, 6])[0]
        submitted = None if status == "not_started" else self._moment(created, now)
        reviewed = (
            submitted + timedelta(hours=rng.randrange(2, 96))
            if status in ("approved", "rejected", "expired") and submitted
            else None
        )
        self._add(
            "kyc_verifications",
            user_id=user_id,
            level=rng.choices(["basic", "enhanced"], [80, 20])[0],
            status=status,
            document_type=None
            if submitted is None
            else rng.choice(["passport", "national_id", "driving_licence"]),
            submitted_at=submitted,
            reviewed_at=reviewed,
            rejection_reason=rng.choice(
                ["Document expired", "Photo unreadable", "Name mismatch", "Address not verified"]
            )
            if status == "rejected"
            else None,
            expires_at=self._approval_expiry(user_id, reviewed, now)
            if status == "approved" and reviewed
            else (now - timedelta(days=rng.randrange(1, 200)))
            if status == "expired"
            else None,
        )

    def _approval_expiry(self, user_id: int, reviewed: datetime, now: datetime) -> datetime:
        """Two years after the review; about one approval in eight has lapsed already and waits
        for the expiry job. Drawn from a stream of its own, so how many have lapsed does not
        depend on the build day, nor does it shift the user's other draws."""
        lapse = random.Random(f"{self.seed}/kyc-lapse/{user_id}")
        if lapse.random() < 0.125:
            return now - timedelta(days=lapse.randrange(1, 60), hours=lapse.randrange(24))
        return reviewed + timedelta(days=730)

    def _subscription(self, user_id: int, created: datetime, now: datetime) -> None:
        rng = self.rng
        if rng.random() > 0.45:
            return
        plan = rng.choices(list(PLANS), [50, 35, 15])[0]
        status = rng.choices(["trialing", "active", "past_due", "cancelled"], [8, 70, 7, 15])[0]
        started = self._moment(created, now - timedelta(days=10))
        cancelled = self._moment(started, now) if status == "cancelled" else None
        period_end = now + timedelta(days=rng.randrange(1, 30))
        self._add(
            "subscriptions",
            user_id=user_id,
            plan=plan,
            status=status,
            monthly_price=PLANS[plan],
            currency="USD",
            started_at=started,
            current_period_end=cancelled or period_end,
            cancelled_at=cancelled,
        )

    def _account(self, user_id: int, kind: str, created: datetime, now: datetime) -> None:
        rng = self.rng
        window_start = max(created, now - timedelta(days=365))
        opened = self._moment(created, window_start + timedelta(days=5))
        account_id = self._next_id("trading_accounts")
        book = _Book()
        start = max(opened, window_start)
        self._payment(
            user_id,
            account_id,
            "deposit",
            rng.choice([2000, 5000, 10000, 25000, 50000]),
            start + timedelta(hours=1),
            book,
        )
        symbols = sorted(CRYPTO) if kind == "crypto" else EQUITIES
        n_orders = rng.randrange(4, 45)
        moments = sorted(self._moment(start + timedelta(hours=2), now) for _ in range(n_orders))
        for when in moments:
            if rng.random() < 0.06:
                direction = "withdrawal" if book.cash > 1000 and rng.random() < 0.5 else "deposit"
                amount = round(
                    min(book.cash * 0.3, 3000)
                    if direction == "withdrawal"
                    else rng.choice([500, 1000, 2500]),
                    2,
                )
                self._payment(user_id, account_id, direction, amount, when, book)
            self._order(user_id, account_id, rng.choice(symbols), when, now, book)
        for symbol, (qty, avg, last) in sorted(book.holdings.items()):
            if qty > 1e-9:
                self._add(
                    "positions",
                    user_id=user_id,
                    account_id=account_id,
                    symbol=symbol,
                    quantity=round(qty, 8),
                    avg_cost=round(avg, 4),
                    updated_at=datetime.fromtimestamp(last),
                )
        self.rows["trading_accounts"].append(
            {
                "id": account_id,
                "user_id": user_id,
                "account_number": f"TA{user_id:05d}{account_id:05d}",
                "account_type": kind,
                "base_currency": "USD",
                "status": rng.choices(["active", "suspended", "closed"], [92, 5, 3])[0],
                "cash_balance": round(book.cash, 2),
                "opened_at": opened,
            }
        )

    def _payment(self, user_id, account_id, direction, amount, when, book: _Book) -> None:
        rng = self.rng
        status = rng.choices(["succeeded", "pending", "failed", "refunded"], [90, 3, 5, 2])[0]
        method = rng.choices(["card", "bank_transfer", "crypto"], [45, 45, 10])[0]
        pay_id = self._add(
            "payments",
            user_id=user_id,
            account_id=account_id,
            direction=direction,
            method=method,
            amount=float(amount),
            currency="USD",
            status=status,
            provider_reference=f"pi_demo_{self.seed}_{self.ids['payments'] + 1:06d}",
            card_last4=f"{rng.randrange(10000):04d}" if method == "card" else None,
            created_at=when,
        )
        if status == "succeeded":
            signed = amount if direction == "deposit" else -amount
            book.cash += signed
            self._add(
                "transactions",
                user_id=user_id,
                account_id=account_id,
                order_id=None,
                type=direction,
                symbol=None,
                quantity=None,
                price=None,
                amount=float(signed),
                currency="USD",
                executed_at=when + timedelta(minutes=rng.randrange(1, 90)),
            )
            self._notify(
                user_id,
                f"Your {direction} of ${amount:,.2f} has arrived"
                if direction == "deposit"
                else f"Withdrawal of ${amount:,.2f} sent",
                when,
                pay_id,
            )

    def _order(self, user_id, account_id, symbol, when, now, book: _Book) -> None:
        rng = self.rng
        price = self._close(symbol, when)
        qty_held = book.holdings.get(symbol, [0.0, 0.0, 0.0])[0]
        side = "sell" if qty_held > 0 and rng.random() < 0.35 else "buy"
        budget = book.cash * rng.uniform(0.05, 0.3)
        if side == "sell":
            quantity = qty_held * rng.choice([0.25, 0.5, 1.0])
        elif symbol in CRYPTO:
            quantity = budget / price
        else:
            quantity = float(int(budget / price))
        quantity = round(quantity, 6 if symbol in CRYPTO else 0)
        order_type = rng.choices(["market", "limit", "stop"], [60, 32, 8])[0]
        limit = round(price * rng.uniform(0.95, 1.02), 2) if order_type != "market" else None
        recent = (now - when) < timedelta(days=21)
        if quantity <= 0:
            if rng.random() < 0.85:  # most customers don't place an order they cannot afford
                return
            status = "rejected"
            quantity = 1.0
        elif recent and order_type != "market":
            status = rng.choices(
                ["open", "partially_filled", "filled", "cancelled"], [45, 15, 30, 10]
            )[0]
        else:
            status = rng.choices(["filled", "cancelled", "rejected"], [86, 10, 4])[0]
        filled = {"filled": quantity, "partially_filled": round(quantity * 0.4, 6)}.get(status, 0.0)
        fill_price = round(price * rng.uniform(0.998, 1.002), 4) if filled else None
        updated = when + timedelta(minutes=rng.randrange(0, 600)) if status != "open" else when
        order_id = self._add(
            "orders",
            user_id=user_id,
            account_id=account_id,
            symbol=symbol,
            side=side,
            order_type=order_type,
            quantity=quantity,
            limit_price=limit,
            status=status,
            filled_quantity=filled,
            avg_fill_price=fill_price,
            created_at=when,
            updated_at=min(updated, now),
        )
        if filled:
            self._fill(user_id, account_id, order_id, symbol, side, filled, fill_price, when, book)

    def _fill(self, user_id, account_id, order_id, symbol, side, qty, price, when, book) -> None:
        notional = round(qty * price, 2)
        fee = round(max(1.0, notional * 0.0025) if symbol in CRYPTO else max(1.0, qty * 0.005), 2)
        holding = book.holdings.setdefault(symbol, [0.0, 0.0, 0.0])
        if side == "buy":
            holding[1] = (holding[0] * holding[1] + qty * price) / (holding[0] + qty)
            holding[0] += qty
            book.cash -= notional
        else:
            holding[0] -= qty
            book.cash += notional
        holding[2] = when.timestamp()
        book.cash -= fee
        executed = when + timedelta(seconds=self.rng.randrange(1, 300))
        signed = -notional if side == "buy" else notional
        for kind, amount, units, unit_price in (
            (side, signed, qty, price),
            ("fee", -fee, None, None),
        ):
            self._add(
                "transactions",
                user_id=user_id,
                account_id=account_id,
                order_id=order_id,
                type=kind,
                symbol=symbol,
                quantity=units,
                price=unit_price,
                amount=amount,
                currency="USD",
                executed_at=executed,
            )
        if self.rng.random() < 0.3:
            self._notify(
                user_id, f"Order {order_id} filled: {side} {qty:g} {symbol}", when, order_id
            )

    def _notify(self, user_id: int, subject: str, when: datetime, ref: int) -> None:
        rng = self.rng
        channel = rng.choices(["email", "push", "in_app", "sms"], [45, 25, 25, 5])[0]
        status = rng.choices(["sent", "read", "failed", "pending"], [55, 38, 4, 3])[0]
        self._add(
            "notifications",
            user_id=user_id,
            channel=channel,
            subject=subject,
            body=f"{subject}. Reference {ref}.",
            status=status,
            created_at=when,
            sent_at=when + timedelta(seconds=rng.randrange(1, 120))
            if status in ("sent", "read")
            else None,
        )


SEED_EXAMPLES = Path(__file__).with_name("sql_examples.jsonl")


def seed_examples(when: datetime | None) -> list[dict]:
    """The verified question -> SQL pairs shipped for the demo schema."""
    lines = SEED_EXAMPLES.read_text(encoding="utf-8").splitlines()
    return [
        {"id": i, **json.loads(line), "source": "seed", "created_at": when}
        for i, line in enumerate(lines, start=1)
    ]


def _advance_sequences(conn: Connection, tables: list[Table]) -> None:
    """Rows were loaded with explicit ids, which PostgreSQL's id sequences do not see: move
    each past its table's largest id, or the next row a service inserts collides with row 1."""
    for table in tables:
        key = table.c.get("id")
        if key is None or not isinstance(key.type, Integer) or not key.autoincrement:
            continue
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table.name}"
            )
        )


def load_demo_data(
    engine: Engine,
    *,
    seed: int = 7,
    as_of: date | None = None,
    users: int = 300,
    market_sample: Path | None = None,
    documents: list[dict] | None = None,
) -> DemoSummary:
    """Replace the demo tables' contents in one transaction: all new rows or none."""
    as_of = as_of or clock.today()
    rows = DemoDataBuilder(seed, as_of, users, market_sample).build()
    rows["documents"] = documents or []
    rows["sql_examples"] = seed_examples(datetime.combine(as_of, time(0)))
    rows["audit_log"] = [
        {
            "id": 1,
            "occurred_at": datetime.combine(as_of, time(0)),
            "actor_user_id": None,
            "actor_role": "system",
            "action": "demo_data.load",
            "outcome": "ok",
            "detail": json.dumps({"seed": seed, "as_of": as_of.isoformat(), "users": users}),
        }
    ]
    tables = [t for t in m.Base.metadata.sorted_tables]
    with engine.begin() as conn:
        for table in reversed(tables):
            conn.execute(delete(table))
        for table in tables:
            batch = rows.get(table.name, [])
            for start in range(0, len(batch), 5000):
                conn.execute(insert(table), batch[start : start + 5000])
        if conn.dialect.name == "postgresql":
            _advance_sequences(conn, tables)
    return DemoSummary(
        seed=seed, as_of=as_of, rows={t.name: len(rows.get(t.name, [])) for t in tables}
    )
