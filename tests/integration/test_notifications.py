"""Notifications end to end: events and staff messages become rows, rows become email through a
real SMTP server (aiosmtpd on 127.0.0.1), on SQLite and PostgreSQL migrated to head."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
import time_machine
from sqlalchemy import Engine, func, insert, select

from services.db.engines import make_engine
from services.db.migrate import upgrade
from services.db.models import AuditLog, Notification, NotificationEventSeen, User
from services.errors import AssistantError
from services.identity import Caller, Role
from services.notifications.channels import ChannelName
from services.notifications.events import NotificationEvent, NotificationKind
from services.notifications.preferences import preferences_for, set_preference
from services.notifications.service import NotificationService
from services.notifications.smtp_email import email_health
from tests.conftest import make_settings
from tests.integration import postgres
from tests.integration.smtp_server import (  # noqa: F401 - the fixtures are used by name
    SmtpServer,
    dead_smtp_fixture,
    smtp_fixture,
)

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SCRIPT = "<script>alert(1)</script>"
ANN, BOB, SUPPORT = 1, 2, 3
ANN_CALLER = Caller(user_id=ANN, role=Role.CUSTOMER)
BOB_CALLER = Caller(user_id=BOB, role=Role.CUSTOMER)
SUPPORT_CALLER = Caller(user_id=SUPPORT, role=Role.SUPPORT)


def _user(user_id: int, name: str, email: str, phone: str | None, role: str) -> dict:
    return {
        "id": user_id,
        "email": email,
        "full_name": name,
        "phone": phone,
        "country": "GB",
        "role": role,
        "tier": "standard",
        "status": "active",
        "created_at": datetime(2026, 1, 1),
    }


USERS = [
    _user(ANN, f"Ann {SCRIPT}", "ann@example.com", "+447700900001", "customer"),
    _user(BOB, "Bob Stone", "bob@example.com", None, "customer"),
    _user(SUPPORT, "Sam Support", "sam@example.com", None, "support"),
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path) -> Iterator[Engine]:
    """A database migrated to head (0007 included) holding three users."""
    if request.param == "sqlite":
        built = make_engine(f"sqlite:///{tmp_path / 'notify.db'}")
        name = None
    else:
        name = postgres.create_database()
        built = make_engine(postgres.url(name))
    try:
        upgrade(built)
        with built.begin() as conn:
            conn.execute(insert(User), USERS)
        yield built
    finally:
        built.dispose()
        if name:
            postgres.drop_database(name)


def _service(engine: Engine, tmp_path, server: SmtpServer, **overrides) -> NotificationService:
    settings = make_settings(
        tmp_path / "var",
        smtp_host="127.0.0.1",
        smtp_port=server.port,
        smtp_starttls=False,
        smtp_timeout_s=5,
        smtp_from="Trading AI Assist <alerts@example.com>",
        notify_backoff_s=30,
        **overrides,
    )
    return NotificationService.from_settings(settings, engine)


def _filled(event_id: str = "evt-1", **data) -> NotificationEvent:
    return NotificationEvent(
        id=event_id,
        type="com.tradingassist.order.filled.v1",
        subject="order/41",
        user_id=ANN,
        data={
            "order_id": 41,
            "side": "buy",
            "quantity": 3,
            "symbol": SCRIPT,
            "avg_fill_price": 101.25,
            **data,
        },
    )


def _rows(engine: Engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(Notification.__table__).order_by(Notification.id)).all()


def _parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


def test_an_event_becomes_an_email_with_the_rendered_and_escaped_message(engine, tmp_path, smtp):
    service = _service(engine, tmp_path, smtp)
    with time_machine.travel(START):
        ids = service.handle_event(_filled())
        assert smtp.mailbox.messages == []  # queued, not sent, until delivery runs
        report = service.deliver_due()

    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    rows = {row.channel: row for row in _rows(engine)}
    assert sorted(ids) == sorted(row.id for row in rows.values())
    assert set(rows) == {"in_app", "email"}  # the defaults: in-app and email on
    assert rows["in_app"].status == "sent" and rows["in_app"].attempts == 0
    email_row = rows["email"]
    assert (email_row.status, email_row.attempts, email_row.last_error) == ("sent", 1, None)
    assert email_row.kind == "order_filled" and email_row.event_id == "evt-1"

    [message] = smtp.mailbox.messages
    assert message["To"] == f'"Ann {SCRIPT}" <ann@example.com>'
    assert message["From"] == "Trading AI Assist <alerts@example.com>"
    assert message["Subject"] == f"Order 41 filled: buy 3 {SCRIPT}"
    assert message["X-Notification-Id"] == str(email_row.id)
    text, html = _parts(message)
    assert f"buy 3 {SCRIPT} was filled at an average price of 101.25" in text
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the symbol and the name, escaped
    assert html.count("&lt;script&gt;") == 2


def test_preferences_switch_channels_off_and_on(engine, tmp_path, smtp):
    sent_sms: list[tuple[str, str]] = []

    class RecordingSms:
        def send_sms(self, to: str, text: str) -> None:
            sent_sms.append((to, text))

    settings = make_settings(
        tmp_path / "var", smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False
    )
    service = NotificationService.from_settings(settings, engine, sms=RecordingSms())
    defaults = {(p.kind, p.channel): p for p in preferences_for(engine, ANN_CALLER, ANN)}
    assert defaults[(NotificationKind.ORDER_FILLED, ChannelName.EMAIL)].enabled
    assert not defaults[(NotificationKind.ORDER_FILLED, ChannelName.SMS)].enabled
    assert all(p.is_default for p in defaults.values())

    set_preference(engine, ANN_CALLER, ANN, NotificationKind.ORDER_FILLED, ChannelName.EMAIL, False)
    set_preference(engine, ANN_CALLER, ANN, NotificationKind.ORDER_FILLED, ChannelName.SMS, True)
    set_preference(engine, ANN_CALLER, ANN, NotificationKind.ORDER_FILLED, ChannelName.SMS, True)

    with time_machine.travel(START):
        service.handle_event(_filled())
        report = service.deliver_due()
        # another kind keeps the defaults
        service.handle_event(
            NotificationEvent(
                id="evt-pay",
                type="com.tradingassist.payment.succeeded.v1",
                user_id=ANN,
                data={
                    "payment_id": 9,
                    "direction": "deposit",
                    "amount": 250.0,
                    "currency": "USD",
                    "method": "card",
                },
            )
        )
        service.deliver_due()

    channels = [(row.kind, row.channel) for row in _rows(engine)]
    assert channels == [
        ("order_filled", "in_app"),
        ("order_filled", "sms"),
        ("payment_succeeded", "in_app"),
        ("payment_succeeded", "email"),
    ]
    assert report.sent == 1
    assert sent_sms == [("+447700900001", f"Order 41 filled: buy 3 {SCRIPT}")]
    assert [m["Subject"] for m in smtp.mailbox.messages] == ["Payment of 250.00 USD received"]
    after = {(p.kind, p.channel): p for p in preferences_for(engine, SUPPORT_CALLER, ANN)}
    assert not after[(NotificationKind.ORDER_FILLED, ChannelName.EMAIL)].enabled
    assert not after[(NotificationKind.ORDER_FILLED, ChannelName.EMAIL)].is_default

    with pytest.raises(AssistantError) as refused:
        set_preference(
            engine, BOB_CALLER, ANN, NotificationKind.ORDER_FILLED, ChannelName.EMAIL, True
        )
    assert refused.value.code == "notification_forbidden" and refused.value.status == 403
    with pytest.raises(AssistantError) as reading:
        preferences_for(engine, BOB_CALLER, ANN)
    assert reading.value.code == "notification_forbidden"


def test_an_smtp_refusal_is_recorded_retried_with_backoff_and_sent_after_recovery(
    engine, tmp_path, smtp
):
    service = _service(engine, tmp_path, smtp, notify_max_attempts=4)
    smtp.mailbox.refusal = "554 5.3.0 relay temporarily out of service"
    with time_machine.travel(START) as traveller:
        service.handle_event(_filled())
        first = service.deliver_due()
        [_, email_row] = _rows(engine)
        assert (first.sent, first.retrying, first.failed) == (0, 1, 0)
        assert email_row.status == "pending" and email_row.attempts == 1
        assert "554" in email_row.last_error and "relay temporarily" in email_row.last_error
        assert email_row.next_attempt_at - START.replace(tzinfo=None) >= timedelta(seconds=30)

        assert service.deliver_due().retrying == 0  # not due yet: nothing is tried
        traveller.shift(31)
        second = service.deliver_due()
        assert (second.retrying, _rows(engine)[1].attempts) == (1, 2)
        # the wait doubles: 60 s after the second failure
        assert service.deliver_due().retrying == 0
        traveller.shift(45)
        assert service.deliver_due().retrying == 0
        smtp.mailbox.refusal = None  # the relay recovers
        traveller.shift(20)
        third = service.deliver_due()

    assert (third.sent, third.retrying, third.failed) == (1, 0, 0)
    email_row = _rows(engine)[1]
    assert (email_row.status, email_row.attempts, email_row.last_error) == ("sent", 3, None)
    assert email_row.next_attempt_at is None and email_row.sent_at is not None
    assert len(smtp.mailbox.messages) == 1


def test_a_dead_smtp_port_is_retried_until_the_server_is_up(engine, tmp_path, dead_smtp):
    service = _service(engine, tmp_path, dead_smtp)
    with time_machine.travel(START) as traveller:
        service.handle_event(_filled())
        assert service.deliver_due().retrying == 1
        assert "ConnectionRefusedError" in _rows(engine)[1].last_error
        dead_smtp.start()
        traveller.shift(31)
        assert service.deliver_due().sent == 1
    assert _rows(engine)[1].status == "sent"
    assert [m["Subject"] for m in dead_smtp.mailbox.messages] == [
        f"Order 41 filled: buy 3 {SCRIPT}"
    ]


def test_after_the_last_attempt_a_notification_has_failed_for_good(engine, tmp_path, smtp):
    service = _service(engine, tmp_path, smtp, notify_max_attempts=2)
    smtp.mailbox.refusal = "550 5.1.1 mailbox unavailable"
    with time_machine.travel(START) as traveller:
        service.handle_event(_filled())
        assert service.deliver_due().retrying == 1
        traveller.shift(31)
        last = service.deliver_due()
        traveller.shift(86_400)
        smtp.mailbox.refusal = None
        later = service.deliver_due()
    assert (last.failed, later.sent, later.failed) == (1, 0, 0)
    email_row = _rows(engine)[1]
    assert (email_row.status, email_row.attempts) == ("failed", 2)
    assert email_row.last_error == "SMTP 550 5.1.1 mailbox unavailable"
    assert email_row.next_attempt_at is None and smtp.mailbox.messages == []


def test_an_sms_to_a_user_without_a_phone_fails_at_once(engine, tmp_path, smtp):
    service = _service(engine, tmp_path, smtp)
    set_preference(engine, BOB_CALLER, BOB, NotificationKind.ORDER_FILLED, ChannelName.SMS, True)
    with time_machine.travel(START):
        service.handle_event(_filled().model_copy(update={"user_id": BOB}))
        report = service.deliver_due()
    assert (report.sent, report.failed) == (1, 1)  # the email went, the SMS cannot
    sms = [row for row in _rows(engine) if row.channel == "sms"][0]
    assert (sms.status, sms.attempts) == ("failed", 1)
    assert sms.last_error == "the user has no phone number on file"


def test_the_same_event_twice_notifies_once(engine, tmp_path, smtp):
    service = _service(engine, tmp_path, smtp)
    with time_machine.travel(START):
        first = service.handle_event(_filled())
        again = service.handle_event(_filled())
        service.deliver_due()
    assert len(first) == 2 and again == []
    assert len(_rows(engine)) == 2 and len(smtp.mailbox.messages) == 1


def test_the_same_event_on_two_workers_at_once_notifies_once(engine, tmp_path, smtp):
    service = _service(engine, tmp_path, smtp)
    barrier = threading.Barrier(4)
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        barrier.wait()
        try:
            results.append(service.handle_event(_filled("evt-race")))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(len(r) for r in results) == [0, 0, 0, 2]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(NotificationEventSeen)).scalar() == 1
    assert len(_rows(engine)) == 2


def test_a_template_missing_a_field_is_an_error_and_queues_nothing(engine, tmp_path, smtp, caplog):
    service = _service(engine, tmp_path, smtp)
    event = _filled()
    broken = event.model_copy(
        update={"data": {k: v for k, v in event.data.items() if k != "avg_fill_price"}}
    )
    with caplog.at_level(logging.WARNING), pytest.raises(AssistantError) as failed:
        service.handle_event(broken)
    assert failed.value.code == "template_failed"
    assert (
        "order_filled/body.txt" in failed.value.message
        and "'avg_fill_price'" in failed.value.message
    )
    assert any("order_filled/body.txt" in r.getMessage() for r in caplog.records)
    assert _rows(engine) == []
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(NotificationEventSeen)).scalar() == 0
    # the event was not marked handled: a corrected redelivery still notifies
    assert len(service.handle_event(event)) == 2


def test_events_that_notify_nobody_or_name_no_user(engine, tmp_path, smtp):
    service = _service(engine, tmp_path, smtp)
    created = NotificationEvent(id="e1", type="com.tradingassist.order.created.v1", user_id=ANN)
    assert service.handle_event(created) == []
    with pytest.raises(AssistantError) as unknown:
        service.handle_event(_filled("e2").model_copy(update={"user_id": 999}))
    assert unknown.value.code == "unknown_user"
    assert _rows(engine) == []


def test_only_staff_send_notifications(engine, tmp_path, smtp):
    service = _service(engine, tmp_path, smtp)
    with pytest.raises(AssistantError) as refused:
        service.send_notification(ANN_CALLER, BOB, "Hello", "Hi Bob", ChannelName.EMAIL)
    assert refused.value.code == "notification_forbidden" and refused.value.status == 403
    assert "support staff and admins" in refused.value.message
    assert _rows(engine) == []
    with pytest.raises(AssistantError) as invalid:
        service.send_notification(SUPPORT_CALLER, BOB, "Two\nlines", "x", ChannelName.EMAIL)
    assert invalid.value.code == "invalid_notification" and "subject" in invalid.value.message

    with time_machine.travel(START):
        sent = service.send_notification(
            SUPPORT_CALLER,
            ANN,
            "Your statement",
            f"It is ready.\n\nSee {SCRIPT} in the app.",
            ChannelName.EMAIL,
        )
        assert sent.status == "pending" and sent.kind == "staff_message"
        assert service.deliver_due().sent == 1
    [message] = smtp.mailbox.messages
    text, html = _parts(message)
    assert message["Subject"] == "Your statement"
    assert f"See {SCRIPT} in the app." in text
    assert "<script>" not in html and "<p>See &lt;script&gt;" in html
    with engine.connect() as conn:
        outcomes = conn.execute(
            select(AuditLog.actor_user_id, AuditLog.outcome)
            .where(AuditLog.action == "notifications.send")
            .order_by(AuditLog.id)
        ).all()
    assert [tuple(o) for o in outcomes] == [(ANN, "rejected"), (SUPPORT, "ok")]


def test_in_app_messages_are_sent_at_once_and_read_when_their_owner_marks_them(
    engine, tmp_path, smtp
):
    service = _service(engine, tmp_path, smtp)
    with time_machine.travel(START, tick=False):
        service.handle_event(_filled())
        in_app = service.send_notification(
            SUPPORT_CALLER, ANN, "Welcome", "Glad to have you.", ChannelName.IN_APP
        )
    assert in_app.status == "sent" and in_app.sent_at == START.replace(tzinfo=None)
    unread = service.list(ANN_CALLER, unread_only=True)
    assert [n.subject for n in unread] == ["Welcome", f"Order 41 filled: buy 3 {SCRIPT}"]
    assert len(service.list(ANN_CALLER)) == 3  # the email too
    assert service.list(BOB_CALLER) == []

    for intruder in (BOB_CALLER, SUPPORT_CALLER):
        with pytest.raises(AssistantError) as denied:
            service.mark_read(intruder, in_app.id)
        assert denied.value.code == "unknown_notification"
    read = service.mark_read(ANN_CALLER, in_app.id)
    assert read.status == "read"
    assert service.mark_read(ANN_CALLER, in_app.id).status == "read"  # again: no change
    assert [n.subject for n in service.list(ANN_CALLER, unread_only=True)] == [
        f"Order 41 filled: buy 3 {SCRIPT}"
    ]
    email_id = next(n.id for n in service.list(ANN_CALLER) if n.channel is ChannelName.EMAIL)
    with pytest.raises(AssistantError) as not_in_app:
        service.mark_read(ANN_CALLER, email_id)
    assert not_in_app.value.code == "notification_not_in_app"
    with pytest.raises(AssistantError) as others:
        service.list(BOB_CALLER, user_id=ANN)
    assert others.value.code == "notification_forbidden"
    assert {n.user_id for n in service.list(SUPPORT_CALLER)} == {ANN}


def test_doctor_says_whether_email_is_sent(tmp_path, smtp, dead_smtp):
    unset = email_health(make_settings(tmp_path / "var"))
    assert unset == (True, "SMTP_HOST unset: emails are logged, not sent")
    up = email_health(
        make_settings(
            tmp_path / "var", smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False
        )
    )
    assert up == (True, "answers (250)")
    down = email_health(
        make_settings(
            tmp_path / "var", smtp_host="127.0.0.1", smtp_port=dead_smtp.port, smtp_starttls=False
        )
    )
    assert down[0] is False and "ConnectionRefusedError" in down[1]


def test_two_delivery_workers_at_once_send_each_email_once(engine, tmp_path, smtp):
    service = _service(engine, tmp_path, smtp)
    with time_machine.travel(START):
        for n in range(8):
            service.handle_event(_filled(f"evt-{n}", order_id=100 + n))
    barrier = threading.Barrier(2)
    reports = []

    def worker() -> None:
        barrier.wait()
        reports.append(service.deliver_due())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.sent for r in reports) == 8
    subjects = sorted(m["Subject"] for m in smtp.mailbox.messages)
    assert subjects == sorted(f"Order {100 + n} filled: buy 3 {SCRIPT}" for n in range(8))
    assert {row.attempts for row in _rows(engine) if row.channel == "email"} == {1}


def test_a_message_that_cannot_be_written_or_a_broken_provider_does_not_stop_the_queue(
    engine, tmp_path, smtp
):
    class BrokenPush:
        def push(self, user_id: int, title: str, body: str) -> None:
            raise RuntimeError("push gateway client bug")

    settings = make_settings(
        tmp_path / "var", smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False
    )
    service = NotificationService.from_settings(settings, engine, push=BrokenPush())
    with engine.begin() as conn:
        conn.execute(
            insert(User),
            [_user(4, "Eve\nBcc: all@example.com", "eve@example.com", None, "customer")],
        )
    set_preference(engine, BOB_CALLER, BOB, NotificationKind.ORDER_FILLED, ChannelName.PUSH, True)
    with time_machine.travel(START):
        for n, user in enumerate((4, BOB)):
            service.handle_event(_filled(f"evt-{n}").model_copy(update={"user_id": user}))
        report = service.deliver_due()
    assert (report.sent, report.retrying, report.failed) == (1, 1, 1)
    by_user = {(row.user_id, row.channel): row for row in _rows(engine)}
    eve = by_user[(4, "email")]
    assert eve.status == "failed" and "linefeed" in eve.last_error
    push = by_user[(BOB, "push")]
    assert push.status == "pending" and push.last_error == "RuntimeError: push gateway client bug"
    assert by_user[(BOB, "email")].status == "sent"
    assert [m["To"] for m in smtp.mailbox.messages] == ["Bob Stone <bob@example.com>"]
