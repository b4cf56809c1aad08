"""The trading domain's pure rules: FIFO lots, market hours, the policy file."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from services import clock
from services.trading.hours import market_open
from services.trading.pnl import Fill, fifo
from services.trading.policy import TradingPolicyError, load_trading_policy


def test_fifo_closes_the_oldest_lots_first():
    book = fifo([Fill("buy", 5, 10.0), Fill("buy", 5, 20.0), Fill("sell", 7, 30.0)])
    assert book.realised == pytest.approx(5 * 20 + 2 * 10)
    assert (book.quantity, book.avg_cost) == (3, 20.0)
    assert book.unrealised(25.0) == pytest.approx(15.0)


def test_fifo_sold_out_then_bought_again_starts_a_fresh_cost():
    book = fifo([Fill("buy", 2, 10.0), Fill("sell", 2, 12.0), Fill("buy", 1, 50.0)])
    assert (book.realised, book.quantity, book.avg_cost) == (4.0, 1, 50.0)


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (datetime(2026, 7, 6, 13, 29, tzinfo=UTC), False),  # Monday 09:29 New York (summer time)
        (datetime(2026, 7, 6, 13, 30, tzinfo=UTC), True),  # 09:30 EDT
        (datetime(2026, 12, 7, 14, 30, tzinfo=UTC), True),  # 09:30 EST
        (datetime(2026, 12, 7, 20, 59, tzinfo=UTC), True),  # 15:59 EST
        (datetime(2026, 12, 7, 21, 0, tzinfo=UTC), False),  # 16:00: the close
        (datetime(2026, 12, 6, 15, 0, tzinfo=UTC), False),  # Sunday
        (datetime(2026, 12, 12, 1, 0, tzinfo=UTC), False),  # Friday 20:00 New York, Saturday UTC
    ],
)
def test_equity_session_is_new_york_regular_hours(moment, is_open):
    assert market_open("equity", moment) is is_open
    assert market_open("crypto", moment) is True


def test_the_session_follows_the_pinned_clock():
    with time_machine.travel(datetime(2026, 12, 5, 15, 0, tzinfo=UTC), tick=False):  # Saturday
        assert not market_open("equity", clock.now())
    with time_machine.travel(datetime(2026, 12, 9, 15, 0, tzinfo=UTC), tick=False):  # Wednesday
        assert market_open("equity", clock.now())


def test_packaged_policy_carries_the_fee_schedule():
    policy = load_trading_policy()
    assert policy.commission("equity", "gold", "market", quantity=100, notional=1e4) == 0.5
    assert policy.commission("equity", "silver", "limit", quantity=1000, notional=1e5) == 4.0
    assert policy.commission("crypto", "vip", "market", quantity=1, notional=100.0) == 1.0
    assert policy.commission("crypto", "vip", "stop", quantity=1, notional=10_000.0) == 25.0
    assert policy.limits("unknown-tier") == policy.limits("standard")


def test_a_bad_policy_file_is_named_in_the_error(tmp_path):
    missing_tier = tmp_path / "policy.yaml"
    missing_tier.write_text(
        "tiers: {standard: {max_order_notional: 10, max_quantity: 1}}\n"
        "fees: {equity: {standard: {per_share: 0.01, minimum: 1}},"
        " crypto: {taker_percent: 1, maker_percent: 1, minimum: 1}}\n"
    )
    with pytest.raises(TradingPolicyError, match="missing: gold, silver, vip"):
        load_trading_policy(missing_tier)
    negative = tmp_path / "negative.yaml"
    negative.write_text(missing_tier.read_text().replace("0.01", "-1"))
    with pytest.raises(TradingPolicyError, match="negative.yaml"):
        load_trading_policy(negative)
    with pytest.raises(TradingPolicyError, match="cannot read"):
        load_trading_policy(tmp_path / "absent.yaml")


def test_an_order_request_refuses_unknown_fields_and_normalises_the_ticker():
    from pydantic import ValidationError

    from services.trading import OrderRequest

    assert OrderRequest(symbol=" aapl ", side="buy", quantity=1).symbol == "AAPL"
    with pytest.raises(ValidationError, match="qty"):
        OrderRequest(symbol="AAPL", side="buy", qty=1)
