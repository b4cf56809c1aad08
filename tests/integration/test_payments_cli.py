"""`trading-assist payments ...` in process on a migrated SQLite database with localstripe:
the dunning job, the KYC expiry job and a staff decision on a withdrawal."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select
from typer.testing import CliRunner

from cli.main import app
from services import clock
from services.db.engines import make_engine
from services.db.migrate import upgrade
from services.db.models import Subscription
from services.payments.dunning import renewal_failed
from services.payments.schemas import Plan
from services.payments.wiring import build_payment_services
from services.settings import get_settings
from tests.integration.localstripe import (
    API_KEY,
    localstripe_fixture,  # noqa: F401 - used by name
)
from tests.integration.payments_fixtures import (
    ANN,
    ANN_ACCOUNT,
    ANN_CALLER,
    CARD_DECLINED_LATER,
    CARD_OK,
    SAM_CALLER,
    WEBHOOK_SECRET,
    seed,
)

runner = CliRunner()


@pytest.fixture
def built(tmp_path: Path, monkeypatch, localstripe):
    for name, value in {
        "VAR_DIR": str(tmp_path / "var"),
        "STRIPE_API_KEY": API_KEY,
        "STRIPE_API_BASE": localstripe,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_LEGACY_PRORATION": "true",
        "DUNNING_RETRY_DAYS": "2",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    settings = get_settings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    seed(engine)
    yield build_payment_services(settings, engine)
    engine.dispose()
    get_settings.cache_clear()


def _card(services, number: str) -> None:
    method = services.payments.gateway.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )
    services.payments.save_payment_method(ANN_CALLER, method.id)


def test_dunning_command_cancels_after_the_only_retry(built):
    _card(built, CARD_OK)
    sub = built.payments.subscribe(ANN_CALLER, Plan.BASIC)
    _card(built, CARD_DECLINED_LATER)
    with built.payments.engine.begin() as conn:
        row = conn.execute(select(Subscription.__table__)).one()
        built.payments.gateway.v1.invoices.create(
            params={
                "customer": built.payments.customer_id(ANN),
                "subscription": row.provider_reference,
            }
        )
        renewal_failed(conn, built.payments.settings, row, 9.0, clock.utcnow())
    with time_machine.travel(clock.now() + timedelta(days=2, minutes=1)):
        result = runner.invoke(app, ["payments", "dunning"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"retried": 1, "recovered": 0, "cancelled": 1}
    assert built.payments.current_subscription(ANN) is None  # cancelled
    assert sub.id == row.id


def test_expire_kyc_and_withdrawal_commands(built):
    built.kyc.submit(ANN_CALLER, "passport")
    built.kyc.review(SAM_CALLER, ANN, "approve")
    assert runner.invoke(app, ["payments", "expire-kyc"]).stdout.strip() == '{"expired": 0}'
    later = clock.now() + timedelta(days=366)
    with time_machine.travel(later):
        assert runner.invoke(app, ["payments", "expire-kyc"]).stdout.strip() == '{"expired": 1}'

    asked = built.payments.request_withdrawal(ANN_CALLER, ANN_ACCOUNT, 25.0)
    customer = runner.invoke(
        app, ["payments", "withdrawal", str(asked.id), "approve", "--as-user-id", str(ANN)]
    )
    assert customer.exit_code == 1 and "only support staff" in customer.output
    staff = ["--as-user-id", str(SAM_CALLER.user_id)]
    approved = runner.invoke(app, ["payments", "withdrawal", str(asked.id), "approve", *staff])
    assert json.loads(approved.stdout)["status"] == "approved"
    early = runner.invoke(app, ["payments", "withdrawal", str(asked.id), "approve", *staff])
    assert early.exit_code == 1 and "is approved; it cannot become approved" in early.output
