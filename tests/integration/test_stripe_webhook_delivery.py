"""localstripe itself delivers a signed webhook to the platform served by uvicorn on
127.0.0.1: a 3-D Secure deposit is authenticated at localstripe, localstripe posts
`payment_intent.succeeded` with its own signature, and the account is credited once."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import time_machine
import uvicorn
from sqlalchemy import func, select

from api.main import create_app
from graphs.assistant import Assistant
from services.db.engines import make_engine
from services.db.migrate import upgrade
from services.db.models import StripeEvent, TradingAccount
from services.llm.scripted import ScriptedChatModel, replies
from tests.integration.localstripe import (
    API_KEY,
    localstripe_fixture,  # noqa: F401 - used by name
)
from tests.integration.payments_fixtures import (
    ANN_ACCOUNT,
    ANN_CALLER,
    CARD_3DS,
    WEBHOOK_SECRET,
    payment_settings,
    seed,
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(tmp_path, localstripe) -> Iterator[tuple[Assistant, str]]:
    settings = payment_settings(tmp_path, localstripe)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    seed(engine)
    engine.dispose()
    assistant = Assistant(settings, ScriptedChatModel(responder=replies("unused")))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(assistant), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the API server did not start"
        time.sleep(0.05)
    yield assistant, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_localstripe_signed_delivery_credits_the_3d_secure_deposit(served, localstripe):
    # localstripe signs with the real clock, so this test runs on it even when the suite's day
    # is pinned (TRADING_ASSIST_TODAY): Stripe's signature check allows 5 minutes of skew
    hatch = time_machine.escape_hatch
    real_now = datetime.fromtimestamp(
        hatch.time.time() if hatch.is_travelling() else time.time(), UTC
    )
    with time_machine.travel(real_now, tick=True):
        _deliver_and_settle(served, localstripe)


def _deliver_and_settle(served, localstripe) -> None:
    assistant, url = served
    httpx.post(
        f"{localstripe}/_config/webhooks/platform-{url.rsplit(':', 1)[1]}",
        data={
            "url": f"{url}/v1/webhooks/stripe",
            "secret": WEBHOOK_SECRET,
            "events[]": ["payment_intent.succeeded"],
        },
    ).raise_for_status()
    payments = assistant.payment_services.payments
    card = payments.gateway.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": CARD_3DS, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )
    payments.save_payment_method(ANN_CALLER, card.id)
    waiting = payments.deposit(ANN_CALLER, ANN_ACCOUNT, 60.0, card.id)
    reference = payments.get_payment(waiting.id).provider_reference
    intent = httpx.get(f"{localstripe}/v1/payment_intents/{reference}", auth=(API_KEY, "")).json()
    httpx.post(
        f"{localstripe}/v1/payment_intents/{reference}/_authenticate",
        data={"client_secret": intent["client_secret"], "success": "true"},
        auth=(API_KEY, ""),
    ).raise_for_status()

    deadline = time.monotonic() + 15  # localstripe waits a second before it delivers
    while payments.get_payment(waiting.id).status != "succeeded":
        assert time.monotonic() < deadline, "localstripe's webhook never settled the payment"
        time.sleep(0.2)
    with assistant.engine.connect() as conn:
        cash = conn.scalar(
            select(TradingAccount.cash_balance).where(TradingAccount.id == ANN_ACCOUNT)
        )
        events = conn.scalar(select(func.count()).select_from(StripeEvent))
    assert cash == 160.0 and events >= 1
