"""The trading domain's events go to the outbox in the transaction that makes the change: an
order placed, filled, cancelled; a refusal announces nothing."""

from __future__ import annotations

import json

import pytest
import time_machine
from sqlalchemy import select

from services.db import models as m
from services.db.engines import make_engine
from services.trading import OrderRequest, TradingError, TradingService
from tests.conftest import make_settings
from tests.integration.trading_books import (
    ACCOUNTS,
    ALICE,
    IN_SESSION,
    MovingPrices,
    build,
    customer,
)

alice = customer(ALICE)


@pytest.fixture
def books(tmp_path):
    settings = make_settings(tmp_path)
    engine = make_engine(settings.database_url)
    build(engine)
    with time_machine.travel(IN_SESSION, tick=False):
        yield TradingService(engine, settings, MovingPrices()), engine
    engine.dispose()


def outbox(engine) -> list[tuple[str, str, dict]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(m.OutboxEvent.type, m.OutboxEvent.subject, m.OutboxEvent.data)
        ).all()
    return [(t.rsplit(".", 2)[-2], s, json.loads(d)) for t, s, d in rows]


def test_an_order_announces_its_placing_fill_and_cancel(books):
    service, engine = books
    market = service.place_order(
        alice, OrderRequest(symbol="AAPL", side="buy", quantity=2), idempotency_key="m1"
    )
    assert sorted((kind, subject) for kind, subject, _ in outbox(engine)) == [
        ("filled", f"orders/{market.order_id}"),
        ("placed", f"orders/{market.order_id}"),
    ]
    [filled] = [data for kind, _, data in outbox(engine) if kind == "filled"]
    assert (filled["user_id"], filled["filled_quantity"]) == (ALICE, 2)

    limit = service.place_order(
        alice,
        OrderRequest(symbol="AAPL", side="buy", order_type="limit", quantity=1, limit_price=50),
        idempotency_key="l1",
    )
    service.cancel_order(alice, limit.order_id)
    limit_events = {k: d for k, s, d in outbox(engine) if s == f"orders/{limit.order_id}"}
    assert sorted(limit_events) == ["cancelled", "placed"]
    assert limit_events["cancelled"]["cancelled_by"] == "customer"


def test_a_refused_or_replayed_order_announces_nothing(books):
    service, engine = books
    with pytest.raises(TradingError):
        service.place_order(
            alice,
            OrderRequest(symbol="AAPL", side="buy", quantity=10**9, account_id=ACCOUNTS.alice_cash),
            idempotency_key="big",
        )
    assert outbox(engine) == []
    request = OrderRequest(symbol="AAPL", side="buy", quantity=1)
    service.place_order(alice, request, idempotency_key="same")
    service.place_order(alice, request, idempotency_key="same")
    assert sorted(kind for kind, _, _ in outbox(engine)) == ["filled", "placed"]
