"""Every refusal: a specific code, one audit row, and not one change to the books."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine

from services.db.engines import make_engine
from services.errors import AssistantError
from services.identity import Caller
from services.kyc.service import KycService
from services.trading import OrderRequest, TradingError, TradingService
from tests.conftest import make_settings
from tests.integration.events.helpers import outbox_types
from tests.integration.trading_books import (
    ACCOUNTS,
    ALICE,
    BOB,
    CAROL,
    IN_SESSION,
    KYC_EXPIRED,
    KYC_REJECTED,
    NO_KYC,
    SATURDAY,
    SUPPORT,
    WEEKDAY_EVENING,
    MovingPrices,
    audit_rows,
    build,
    customer,
    snapshot,
)


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("refusals"))
    engine = make_engine(settings.database_url)
    build(engine)
    yield TradingService(engine, settings, MovingPrices()), engine
    engine.dispose()


AAPL = {"symbol": "AAPL", "side": "buy", "quantity": 1}
CASES = {
    "unknown symbol": (ALICE, {**AAPL, "symbol": "ZZZZ"}, "unknown_symbol"),
    "zero quantity": (ALICE, {**AAPL, "quantity": 0}, "invalid_quantity"),
    "negative quantity": (ALICE, {**AAPL, "quantity": -3}, "invalid_quantity"),
    "quantity below the smallest unit": (ALICE, {**AAPL, "quantity": 1e-10}, "invalid_quantity"),
    "notional below the smallest unit": (
        ALICE,
        {**AAPL, "quantity": None, "notional": 1e-5},
        "invalid_quantity",
    ),
    "negative notional": (ALICE, {**AAPL, "quantity": None, "notional": -50}, "invalid_quantity"),
    "quantity and notional": (ALICE, {**AAPL, "notional": 100}, "invalid_order"),
    "neither quantity nor notional": (ALICE, {**AAPL, "quantity": None}, "invalid_order"),
    "limit without its price": (ALICE, {**AAPL, "order_type": "limit"}, "invalid_order"),
    "market with a stop price": (ALICE, {**AAPL, "stop_price": 90}, "invalid_order"),
    "suspended account": (
        ALICE,
        {**AAPL, "account_id": ACCOUNTS.alice_margin_suspended},
        "account_inactive",
    ),
    "no KYC at all": (NO_KYC, AAPL, "kyc_required"),
    "KYC rejected": (KYC_REJECTED, AAPL, "kyc_required"),
    "KYC expired": (KYC_EXPIRED, AAPL, "kyc_required"),
    "another customer's account": (
        BOB,
        {**AAPL, "account_id": ACCOUNTS.alice_cash},
        "unknown_account",
    ),
    "an account that does not exist": (BOB, {**AAPL, "account_id": 999}, "unknown_account"),
    "crypto account for an equity": (
        ALICE,
        {**AAPL, "account_id": ACCOUNTS.alice_crypto},
        "wrong_account_type",
    ),
    "two accounts could trade it": (CAROL, AAPL, "ambiguous_account"),
    "no account can trade it": (BOB, {**AAPL, "symbol": "BTCUSD"}, "no_trading_account"),
    "halted instrument": (ALICE, {**AAPL, "symbol": "HALT"}, "not_tradable"),
    "above the tier's quantity": (ALICE, {**AAPL, "quantity": 20_000}, "order_limit_exceeded"),
    "above the tier's notional": (
        ALICE,
        {**AAPL, "symbol": "BTCUSD", "quantity": 0.6},
        "order_limit_exceeded",
    ),
    "not enough buying power": (BOB, {**AAPL, "quantity": 30}, "insufficient_buying_power"),
    "selling more than held": (
        ALICE,
        {**AAPL, "side": "sell", "quantity": 11},
        "insufficient_holdings",
    ),
    "staff placing an order": (
        None,
        {**AAPL, "account_id": ACCOUNTS.alice_cash},
        "orders_customers_only",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_refusal_has_its_code_an_audit_row_and_changes_nothing(books, case):
    service, engine = books
    user, fields, code = CASES[case]
    caller: Caller = SUPPORT if user is None else customer(user)
    request = OrderRequest(**fields)
    before, audits = snapshot(engine), len(audit_rows(engine))
    with time_machine.travel(IN_SESSION, tick=False), pytest.raises(TradingError) as refused:
        service.place_order(caller, request, idempotency_key=f"key-{case}")
    assert refused.value.code == code
    assert code in AssistantError.STATUS and refused.value.status < 500
    assert snapshot(engine) == before
    new = audit_rows(engine)[audits:]
    assert [(r["action"], r["outcome"]) for r in new] == [("trading.place", "rejected")]
    assert json.loads(new[0]["detail"])["code"] == code


@pytest.mark.parametrize("moment", [SATURDAY, WEEKDAY_EVENING], ids=["saturday", "weekday-20h-NY"])
def test_equities_wait_for_the_session_while_crypto_trades(books, moment):
    service, engine = books
    alice = customer(ALICE)
    before = snapshot(engine)
    with time_machine.travel(moment, tick=False):
        with pytest.raises(TradingError) as closed:
            service.place_order(alice, OrderRequest(**AAPL), idempotency_key=f"eq-{moment}")
        assert closed.value.code == "market_closed"
        assert snapshot(engine) == before
        assert audit_rows(engine)[-1]["outcome"] == "rejected"
        preview = service.preview_order(
            alice, OrderRequest(symbol="BTCUSD", side="buy", quantity=0.01)
        )
        assert preview.ok
        crypto = service.place_order(
            alice, OrderRequest(symbol="BTCUSD", side="buy", quantity=0.01), f"c-{moment}"
        )
    assert crypto.status == "filled"


def test_the_preview_lists_every_failed_check_and_writes_nothing(books):
    service, engine = books
    before = snapshot(engine)
    with time_machine.travel(SATURDAY, tick=False):
        preview = service.preview_order(customer(BOB), OrderRequest(**{**AAPL, "quantity": 30}))
    failed = {c.name: c.code for c in preview.checks if not c.passed}
    assert failed == {"buying_power": "insufficient_buying_power", "market_hours": "market_closed"}
    assert not preview.ok and snapshot(engine) == before


@pytest.fixture
def books_and_kyc(tmp_path):
    """Fresh books (a test here moves a customer's identity check) and the KYC service."""
    settings = make_settings(tmp_path)
    engine = make_engine(settings.database_url)
    build(engine)
    yield TradingService(engine, settings, MovingPrices()), KycService(engine, settings), engine
    engine.dispose()


def test_the_kyc_services_rejection_or_expiry_refuses_the_order_by_name(books_and_kyc):
    """The pre-trade check reads the KYC service: a check support rejected, or one the expiry
    job expired, refuses the order with what happened to it, and nothing is written."""
    service, kyc, engine = books_and_kyc
    trader = customer(NO_KYC)
    order = OrderRequest(**AAPL, account_id=ACCOUNTS.no_kyc_cash)

    def refused(key: str) -> TradingError:
        before = snapshot(engine)
        with time_machine.travel(IN_SESSION, tick=False), pytest.raises(TradingError) as caught:
            service.place_order(trader, order, idempotency_key=key)
        assert snapshot(engine) == before and caught.value.code == "kyc_required"
        assert not [t for t in outbox_types(engine) if t.startswith("order.")]
        return caught.value

    with time_machine.travel(IN_SESSION - timedelta(days=400)):
        kyc.submit(trader, "passport")
        kyc.review(SUPPORT, NO_KYC, "reject", "the photo is unreadable")
    assert refused("after-rejection").message == (
        "identity verification (KYC) was rejected: the photo is unreadable"
    )

    validity = timedelta(days=kyc.settings.kyc_validity_days)
    with time_machine.travel(IN_SESSION - validity - timedelta(days=1)):
        kyc.submit(trader, "passport")  # a new attempt
        kyc.review(SUPPORT, NO_KYC, "approve")
    with time_machine.travel(IN_SESSION, tick=False):
        assert kyc.expire_due() >= 1
        assert kyc.status(trader).status == "expired"
    assert refused("after-expiry").message == (
        "identity verification (KYC) has expired; please renew it"
    )
    rejected = [r for r in audit_rows(engine) if r["action"] == "trading.place"]
    assert [json.loads(r["detail"])["code"] for r in rejected] == ["kyc_required"] * 2
