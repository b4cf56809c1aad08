"""A database migrated to head with a few customers and accounts, and the payment services over
it pointed at localstripe; shared by the payment and webhook tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest
import stripe
from sqlalchemy import Engine, insert

from services.db.engines import make_engine
from services.db.migrate import upgrade
from services.db.models import TradingAccount, User
from services.identity import Caller, Role
from services.payments.wiring import PaymentServices, build_payment_services
from services.settings import Settings
from tests.conftest import make_settings
from tests.integration import postgres
from tests.integration.localstripe import API_KEY

ANN, BOB, SAM = 1, 2, 3
ANN_ACCOUNT, BOB_ACCOUNT = 11, 12
ANN_CALLER = Caller(user_id=ANN, role=Role.CUSTOMER)
BOB_CALLER = Caller(user_id=BOB, role=Role.CUSTOMER)
SAM_CALLER = Caller(user_id=SAM, role=Role.SUPPORT)
WEBHOOK_SECRET = "whsec_test_secret"

# Stripe's test cards, which localstripe honours
CARD_OK = "4242424242424242"
CARD_3DS = "4000002500003155"
CARD_DECLINED_LATER = "4000000000000341"  # attaches, then every charge is declined


def seed(engine: Engine) -> None:
    people = [
        (ANN, "Ann Lee", "customer", date(1990, 3, 14)),
        (BOB, "Bob Stone", "customer", date(1985, 7, 1)),
        (SAM, "Sam Support", "support", None),
    ]
    with engine.begin() as conn:
        conn.execute(
            insert(User),
            [
                {
                    "id": uid,
                    "email": f"user{uid}@example.com",
                    "full_name": name,
                    "date_of_birth": born,
                    "country": "GB",
                    "role": role,
                    "tier": "standard",
                    "status": "active",
                    "created_at": datetime(2026, 1, 1),
                }
                for uid, name, role, born in people
            ],
        )
        conn.execute(
            insert(TradingAccount),
            [
                {
                    "id": account_id,
                    "user_id": uid,
                    "account_number": f"TA{account_id:06d}",
                    "account_type": "cash",
                    "base_currency": "USD",
                    "status": "active",
                    "cash_balance": 100.0,
                    "opened_at": datetime(2026, 1, 2),
                }
                for account_id, uid in ((ANN_ACCOUNT, ANN), (BOB_ACCOUNT, BOB))
            ],
        )


def payment_settings(tmp_path, base: str | None, **overrides: Any) -> Settings:
    values = {
        "stripe_api_key": API_KEY,
        "stripe_api_base": base,
        "stripe_webhook_secret": WEBHOOK_SECRET,
        "stripe_legacy_proration": True,
        **overrides,
    }
    return make_settings(tmp_path / "var", **values)


@dataclass
class World:
    settings: Settings
    engine: Engine
    services: PaymentServices
    stripe: Any  # a StripeClient on localstripe: what Stripe.js does in the customer's browser

    def card(self, number: str) -> str:
        method = self.stripe.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
            }
        )
        return method.id


@pytest.fixture(
    name="world", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def world_fixture(request, tmp_path, localstripe) -> Iterator[World]:
    """The payment services on a database migrated to head (SQLite, then PostgreSQL)."""
    name = postgres.create_database() if request.param == "postgresql" else None
    extra = {"database_url": postgres.url(name)} if name else {}
    settings = payment_settings(tmp_path, localstripe, **extra)
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        seed(engine)
        client = stripe.StripeClient(API_KEY, base_addresses={"api": localstripe})
        yield World(settings, engine, build_payment_services(settings, engine), client)
    finally:
        engine.dispose()
        if name:
            postgres.drop_database(name)
