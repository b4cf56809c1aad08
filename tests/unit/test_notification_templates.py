"""Every kind of notification renders from realistic event data, and only from complete data."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.errors import AssistantError
from services.notifications.events import EVENT_KINDS, NotificationEvent, NotificationKind
from services.notifications.templates import TemplateRenderer

TEMPLATES = Path(__file__).parents[2] / "services" / "notifications" / "templates"
RECIPIENT = {"full_name": "Ann Lee"}

SAMPLES: dict[NotificationKind, dict] = {
    NotificationKind.ORDER_FILLED: {
        "order_id": 41,
        "side": "sell",
        "quantity": 0.5,
        "symbol": "BTCUSD",
        "avg_fill_price": "64,000.00",
    },
    NotificationKind.ORDER_REJECTED: {
        "order_id": 42,
        "side": "buy",
        "quantity": 10,
        "symbol": "TSLA",
        "reason": "insufficient buying power",
    },
    NotificationKind.PRICE_ALERT_FIRED: {
        "symbol": "ETHUSD",
        "direction": "above",
        "threshold": 3000,
        "price": 3012.5,
    },
    NotificationKind.PAYMENT_SUCCEEDED: {
        "payment_id": 7,
        "direction": "deposit",
        "amount": 500.0,
        "currency": "EUR",
        "method": "card",
    },
    NotificationKind.PAYMENT_FAILED: {
        "payment_id": 8,
        "direction": "deposit",
        "amount": 120.0,
        "currency": "USD",
        "method": "card",
        "reason": "the card was declined",
    },
    NotificationKind.SUBSCRIPTION_PAST_DUE: {
        "plan": "pro",
        "amount": 29.0,
        "currency": "USD",
        "grace_until": "2026-12-15",
    },
    NotificationKind.KYC_DECIDED: {"decision": "approved"},
    NotificationKind.KYC_EXPIRING: {"expires_on": "2027-01-31"},
    NotificationKind.STAFF_MESSAGE: {"subject": "Hello", "body": "First.\n\nSecond."},
}

EXPECTED_SUBJECTS = {
    NotificationKind.ORDER_FILLED: "Order 41 filled: sell 0.5 BTCUSD",
    NotificationKind.ORDER_REJECTED: "Order 42 rejected: buy 10 TSLA",
    NotificationKind.PRICE_ALERT_FIRED: "Price alert: ETHUSD is above 3000",
    NotificationKind.PAYMENT_SUCCEEDED: "Payment of 500.00 EUR received",
    NotificationKind.PAYMENT_FAILED: "Payment of 120.00 USD failed",
    NotificationKind.SUBSCRIPTION_PAST_DUE: "Your pro subscription is past due",
    NotificationKind.KYC_DECIDED: "Your identity check is approved",
    NotificationKind.KYC_EXPIRING: "Your identity check expires on 2027-01-31",
    NotificationKind.STAFF_MESSAGE: "Hello",
}


@pytest.fixture(scope="module")
def renderer() -> TemplateRenderer:
    return TemplateRenderer()


def test_every_kind_has_its_three_templates_and_every_event_type_a_kind():
    folders = {p.name for p in TEMPLATES.iterdir() if p.is_dir()}
    assert folders == {k.value for k in NotificationKind}
    for kind in NotificationKind:
        assert {p.name for p in (TEMPLATES / kind.value).iterdir()} == {
            "subject.txt",
            "body.txt",
            "body.html",
        }
    assert set(EVENT_KINDS.values()) == set(NotificationKind) - {NotificationKind.STAFF_MESSAGE}


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_each_kind_renders_its_fields(renderer, kind):
    data = SAMPLES[kind]
    message = renderer.render(kind, {**data, "recipient": RECIPIENT})
    assert message.subject == EXPECTED_SUBJECTS[kind]
    assert message.html.lstrip().startswith("<!doctype html>")
    for field, value in data.items():
        if field == "subject":
            continue  # the subject line is not repeated in the body
        for piece in str(value).split("\n\n"):
            assert piece in message.text
            assert piece in message.html
    assert message.text.startswith("Hello Ann Lee,")


@pytest.mark.parametrize("kind", [k for k in NotificationKind if len(SAMPLES[k]) > 1])
def test_each_field_is_required(renderer, kind):
    for missing in SAMPLES[kind]:
        data = {k: v for k, v in SAMPLES[kind].items() if k != missing}
        with pytest.raises(AssistantError) as failed:
            renderer.render(kind, {**data, "recipient": RECIPIENT})
        assert failed.value.code == "template_failed"
        assert f"{kind.value}/" in failed.value.message and f"'{missing}'" in failed.value.message


@pytest.mark.parametrize(
    ("decision", "subject", "says"),
    [
        ("approved", "Your identity check is approved", "You can now use every feature"),
        ("rejected", "Your identity check was not approved", "not approved: blurred photo."),
        ("requires_input", "Your identity check needs more information", "information to finish"),
    ],
)
def test_kyc_decisions_read_differently_and_a_reason_is_needed_unless_approved(
    renderer, decision, subject, says
):
    context = {"decision": decision, "reason": "blurred photo", "recipient": RECIPIENT}
    message = renderer.render(NotificationKind.KYC_DECIDED, context)
    assert (message.subject, says in message.text) == (subject, True)
    if decision != "approved":
        with pytest.raises(AssistantError, match="'reason' is undefined"):
            renderer.render(
                NotificationKind.KYC_DECIDED, {"decision": decision, "recipient": RECIPIENT}
            )


def test_a_subject_stays_one_line(renderer):
    message = renderer.render(
        NotificationKind.STAFF_MESSAGE,
        {"subject": "line one\r\nBcc: x@example.com", "body": "b", "recipient": RECIPIENT},
    )
    assert message.subject == "line one Bcc: x@example.com"


def test_an_event_needs_an_id_and_a_type():
    with pytest.raises(ValueError):
        NotificationEvent(id="", type="com.tradingassist.order.filled.v1", user_id=1)


def test_a_kyc_decision_it_cannot_word_is_an_error(renderer):
    with pytest.raises(AssistantError) as failed:
        renderer.render(
            NotificationKind.KYC_DECIDED,
            {"decision": "aproved", "reason": "x", "recipient": RECIPIENT},
        )
    assert failed.value.code == "template_failed"
    assert failed.value.message == (
        "notification template kyc_decided/subject.txt failed: decision must be approved, "
        "rejected or requires_input, not aproved"
    )


def test_amounts_and_methods_read_as_words_and_withdrawals_as_withdrawals(renderer):
    """Event data as the catalogue types it: a number for the amount, a method's code."""
    paid_out = {
        "payment_id": 12,
        "direction": "withdrawal",
        "amount": 1250.5,
        "currency": "USD",
        "method": "bank_transfer",
        "recipient": RECIPIENT,
    }
    message = renderer.render(NotificationKind.PAYMENT_SUCCEEDED, paid_out)
    assert message.subject == "Withdrawal of 1,250.50 USD paid out"
    assert "Your bank transfer withdrawal 12 of 1,250.50 USD succeeded." in message.text
    rejected = {**paid_out, "reason": "bank details unclear"}
    message = renderer.render(NotificationKind.PAYMENT_FAILED, rejected)
    assert message.subject == "Withdrawal of 1,250.50 USD rejected"
    sepa = {**rejected, "direction": "deposit", "method": "sepa_debit", "amount": 30}
    message = renderer.render(NotificationKind.PAYMENT_FAILED, sepa)
    assert "Your sepa debit deposit 12 of 30.00 USD failed: bank details unclear." in message.text


def test_an_amount_that_is_not_a_number_is_an_error(renderer):
    with pytest.raises(AssistantError) as failed:
        renderer.render(
            NotificationKind.SUBSCRIPTION_PAST_DUE,
            {**SAMPLES[NotificationKind.SUBSCRIPTION_PAST_DUE], "amount": "29.00",
             "recipient": RECIPIENT},
        )  # fmt: skip
    assert failed.value.code == "template_failed"
    assert "an amount must be a number, not '29.00'" in failed.value.message
