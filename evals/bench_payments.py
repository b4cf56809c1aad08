"""How fast the Stripe webhook settles payments, on a fresh database of its own.

Three timed phases over `events` signed `payment_intent.succeeded` deliveries, one per pending
deposit: applying them (signature check, event-id record, payment settled, cash credited,
ledger line, the payment.succeeded event in the outbox, all in one transaction each), replaying
the same deliveries (each found by its event id, nothing changes), and late `payment_failed`
deliveries for the same intents (stale: a succeeded payment never moves back). With
`stripe_api_base` (e.g. a localstripe) a fourth phase times deposits end to end through the
Stripe SDK.

    trading-assist payments bench [--events 300] [--database-url URL] [--stripe-api-base URL]
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field
from sqlalchemy import insert, select

from services.db.engines import make_engine
from services.db.migrate import upgrade
from services.db.models import Payment, TradingAccount, User
from services.identity import Caller, Role
from services.kyc.providers import sign
from services.payments.wiring import build_payment_services
from services.settings import Settings

SECRET = "whsec_bench"


class Phase(BaseModel):
    items: int
    seconds: float
    per_s: float = Field(description="Items per second.")


class PaymentBench(BaseModel):
    database: str
    events: int
    apply: Phase = Field(
        description="Signed succeeded events applied (credit, ledger, outbox event)."
    )
    replay: Phase = Field(description="The same deliveries again, each a replay.")
    stale: Phase = Field(description="Late failures for succeeded payments, each stale.")
    deposits: Phase | None = Field(None, description="Deposits through the Stripe SDK.")
    cash: float = Field(description="The account's cash at the end (checks each credit once).")


def _phase(items: int, started: float) -> Phase:
    seconds = time.perf_counter() - started
    return Phase(items=items, seconds=round(seconds, 3), per_s=round(items / seconds, 1))


@contextmanager
def _quiet(*names: str):
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _delivery(n: int, kind: str) -> tuple[bytes, str]:
    body = {
        "id": f"evt_bench_{kind}_{n}",
        "object": "event",
        "type": f"payment_intent.{kind}",
        "created": int(time.time()),
        "data": {"object": {"id": f"pi_bench_{n}", "object": "payment_intent"}},
    }
    payload = json.dumps(body).encode()
    return payload, sign(payload, SECRET)


def run(
    events: int = 300, database_url: str | None = None, stripe_api_base: str | None = None
) -> PaymentBench:
    with (
        _quiet("services.payments", "services.notifications", "audit"),
        tempfile.TemporaryDirectory() as tmp,
    ):
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = Settings(
            _env_file=None,
            var_dir=Path(tmp),
            database_url=url,
            stripe_api_key="sk_test_bench",
            stripe_api_base=stripe_api_base,
            stripe_webhook_secret=SECRET,
            stripe_legacy_proration=True,
        )
        engine = make_engine(url)
        upgrade(engine)
        now = datetime(2026, 12, 1)
        with engine.begin() as conn:
            conn.execute(
                insert(User).values(
                    id=1, email="bench@example.com", full_name="Bench", country="GB",
                    role="customer", tier="standard", status="active", created_at=now,
                )
            )  # fmt: skip
            conn.execute(
                insert(TradingAccount).values(
                    id=1, user_id=1, account_number="TA000001", account_type="cash",
                    base_currency="USD", status="active", cash_balance=0, opened_at=now,
                )
            )  # fmt: skip
            conn.execute(
                insert(Payment),
                [
                    {
                        "user_id": 1, "account_id": 1, "direction": "deposit", "method": "card",
                        "amount": 1.0, "currency": "USD", "status": "pending",
                        "provider_reference": f"pi_bench_{n}", "created_at": now,
                    }
                    for n in range(events)
                ],
            )  # fmt: skip
        built = build_payment_services(settings, engine)
        succeeded = [_delivery(n, "succeeded") for n in range(events)]
        failed = [_delivery(n, "payment_failed") for n in range(events)]

        started = time.perf_counter()
        outcomes = [built.webhooks.handle(p, s).outcome for p, s in succeeded]
        apply = _phase(events, started)
        assert set(outcomes) == {"applied"}, outcomes[:3]
        started = time.perf_counter()
        outcomes = [built.webhooks.handle(p, s).outcome for p, s in succeeded]
        replay = _phase(events, started)
        assert set(outcomes) == {"replay"}
        started = time.perf_counter()
        outcomes = [built.webhooks.handle(p, s).outcome for p, s in failed]
        stale = _phase(events, started)
        assert set(outcomes) == {"stale"}

        deposits = None
        if stripe_api_base:
            deposits = _deposits(built.payments, min(events, 50))
        with engine.connect() as conn:
            cash = conn.scalar(select(TradingAccount.cash_balance).where(TradingAccount.id == 1))
        engine.dispose()
        return PaymentBench(
            database=engine.dialect.name, events=events, apply=apply, replay=replay,
            stale=stale, deposits=deposits, cash=cash,
        )  # fmt: skip


def _deposits(payments, count: int) -> Phase:
    customer = Caller(user_id=1, role=Role.CUSTOMER)
    card = payments.gateway.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )
    payments.save_payment_method(customer, card.id)
    started = time.perf_counter()
    for _ in range(count):
        payments.deposit(customer, 1, 1.0, card.id)
    return _phase(count, started)
