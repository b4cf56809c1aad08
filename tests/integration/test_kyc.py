"""The KYC workflow on a SQLite database migrated to head: the state machine's refusals,
identity documents read by the real ingestion (OCR of a scanned passport included) and checked
against the profile, the review queue, expiry, and Stripe Identity at the SDK seam. Every move
is announced in the outbox in its own transaction; notifications come from there through the
dispatcher and the bus."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from sqlalchemy import func, select, update

from retrieval.convert import Converter
from retrieval.library import DocumentLibrary
from services import clock
from services.db.engines import make_engine
from services.db.migrate import upgrade
from services.db.models import AuditLog, Document, KycVerification, Notification, OutboxEvent
from services.errors import AssistantError
from services.identity import Caller, Role
from services.kyc.providers import StripeIdentityProvider
from services.kyc.service import KycService
from tests.integration import postgres
from tests.integration.events.helpers import deliver_to_notifications, outbox_types
from tests.integration.ingest_files import RecordingIndex, text_image
from tests.integration.payments_fixtures import (
    ANN,
    ANN_CALLER,
    BOB,
    BOB_CALLER,
    SAM_CALLER,
    payment_settings,
    seed,
)
from tools.context import ToolServices
from tools.kyc import DocumentType, submit_document

ADMIN = Caller(user_id=None, role=Role.ADMIN)
PASSPORT = [
    "PASSPORT",
    "Surname: LEE",
    "Given names: ANN",
    "Date of birth: 14 MAR 1990",
    "Document No: X1234567",
]


def scan(lines: list[str]) -> bytes:
    """A scanned identity page: the lines as a picture, nothing but pixels."""
    out = io.BytesIO()
    text_image(lines, size=(1100, 110 * len(lines) + 40)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def converter() -> Converter:
    return Converter("rapidocr")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(request, tmp_path, converter):
    name = postgres.create_database() if request.param == "postgresql" else None
    extra = {"database_url": postgres.url(name)} if name else {}
    settings = payment_settings(tmp_path, None, **extra)
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        seed(engine)
        kyc = KycService(engine, settings)
        library = DocumentLibrary.from_settings(
            settings, engine, RecordingIndex(), converter=converter
        )
        services = ToolServices(engine=engine, settings=settings, documents=library, kyc=kyc)
        yield SimpleNamespace(
            engine=engine, settings=settings, kyc=kyc, library=library, services=services
        )
    finally:
        engine.dispose()
        if name:
            postgres.drop_database(name)


def count(world, model, *where) -> int:
    with world.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model).where(*where))


def notices(world, kind: str) -> int:
    """How many events of a kind notified the customer, once the outbox is delivered."""
    asyncio.run(deliver_to_notifications(world.settings, world.engine))
    with world.engine.connect() as conn:
        return conn.scalar(
            select(func.count(func.distinct(Notification.event_id))).where(
                Notification.kind == kind
            )
        )


def test_a_matching_scanned_passport_is_read_by_ocr_stored_restricted_and_submitted(world):
    out = submit_document(
        world.services, ANN_CALLER, DocumentType.PASSPORT, "passport.png", scan(PASSPORT)
    )
    assert (out.status, out.document_type) == ("pending", "passport")
    assert outbox_types(world.engine) == ["kyc.submitted"]
    record = world.library.store.get(_document_id(world))
    assert record.visibility == "restricted"
    readers = {
        caller.user_id
        for caller in (ANN_CALLER, BOB_CALLER, SAM_CALLER)
        if any(r.id == record.id for r in world.library.visible(caller))
    }
    assert readers == {ANN, SAM_CALLER.user_id}
    assert [case.user_id for case in world.kyc.review_queue(SAM_CALLER)] == [ANN]


def _document_id(world) -> int:
    with world.engine.connect() as conn:
        return conn.scalar(
            select(KycVerification.document_id).where(KycVerification.user_id == ANN)
        )


def test_a_document_that_does_not_match_the_profile_is_refused_with_nothing_kept(world):
    someone_else = [
        line.replace("ANN", "ANNA").replace("14 MAR 1990", "15 MAR 1991") for line in PASSPORT
    ]
    with pytest.raises(AssistantError) as refused:
        submit_document(
            world.services, ANN_CALLER, DocumentType.PASSPORT, "p.png", scan(someone_else)
        )
    assert refused.value.code == "kyc_document_mismatch"
    assert "name: the document says Anna Lee" in refused.value.message
    assert "date of birth: the document says 1991-03-15" in refused.value.message
    assert count(world, Document) == 0 and count(world, KycVerification) == 0
    assert outbox_types(world.engine) == []
    assert (
        count(world, AuditLog, AuditLog.action == "kyc.submit", AuditLog.outcome == "rejected") == 1
    )


def test_review_decisions_are_audited_with_the_reviewer_and_notify_the_customer(world):
    kyc = world.kyc
    kyc.submit(ANN_CALLER, "passport")
    kyc.submit(BOB_CALLER, "national_id")
    with pytest.raises(AssistantError) as customer:
        kyc.review(ANN_CALLER, ANN, "approve")
    assert customer.value.code == "tool_forbidden"

    asked = kyc.review(SAM_CALLER, ANN, "request_input", "a clearer photo of page 2")
    assert (asked.status, asked.requested_input) == ("requires_input", "a clearer photo of page 2")
    assert kyc.submit(ANN_CALLER, "passport").status == "pending"  # resubmitted, same row
    approved = kyc.review(SAM_CALLER, ANN, "approve")
    assert approved.status == "approved" and approved.expires_at is not None
    assert kyc.is_verified(ANN, clock.utcnow())

    rejected = kyc.review(SAM_CALLER, BOB, "reject", "the document is expired")
    assert rejected.rejection_reason == "the document is expired"
    assert not kyc.is_verified(BOB, clock.utcnow())
    with world.engine.connect() as conn:
        reviewers = conn.execute(
            select(AuditLog.actor_user_id, AuditLog.detail).where(
                AuditLog.action == "kyc.review", AuditLog.outcome == "ok"
            )
        ).all()
    assert len(reviewers) == 3 and {r.actor_user_id for r in reviewers} == {SAM_CALLER.user_id}
    assert all('"reviewer_id": 3' in r.detail for r in reviewers)
    assert outbox_types(world.engine) == ["kyc.decided"] * 3 + ["kyc.submitted"] * 3
    assert count(world, Notification) == 0  # nothing is notified before delivery
    assert notices(world, "kyc_decided") == 3
    with world.engine.connect() as conn:
        bodies = set(conn.scalars(select(Notification.body).where(Notification.user_id == BOB)))
    assert any("not approved: the document is expired." in body for body in bodies)
    assert kyc.review_queue(SAM_CALLER) == []


def test_a_move_the_machine_forbids_is_refused_audited_and_writes_nothing(world):
    kyc = world.kyc
    kyc.submit(BOB_CALLER, "passport")
    kyc.review(SAM_CALLER, BOB, "reject", "not readable")
    before = kyc.status(SAM_CALLER, BOB)
    with pytest.raises(AssistantError) as refused:
        kyc.review(SAM_CALLER, BOB, "approve")
    assert refused.value.code == "kyc_transition_not_allowed"
    assert refused.value.message == "a check that is rejected cannot be approved"
    assert kyc.status(SAM_CALLER, BOB) == before
    assert (
        count(world, AuditLog, AuditLog.action == "kyc.review", AuditLog.outcome == "rejected") == 1
    )
    assert outbox_types(world.engine) == ["kyc.decided", "kyc.submitted"]  # the refusal: none
    with pytest.raises(AssistantError) as twice:
        kyc.submit(BOB_CALLER, "passport")
        kyc.submit(BOB_CALLER, "passport")  # pending already: cannot be submitted again
    assert twice.value.code == "kyc_transition_not_allowed"
    assert count(world, KycVerification, KycVerification.user_id == BOB) == 2  # re-verification


def test_approvals_expire_when_their_time_passes(world):
    kyc = world.kyc
    kyc.submit(ANN_CALLER, "passport")
    approved = kyc.review(SAM_CALLER, ANN, "approve")
    assert kyc.expire_due() == 0
    assert notices(world, "kyc_expiring") == 0  # a year away: nothing to say yet
    days = world.kyc.settings.kyc_validity_days
    with time_machine.travel(clock.now() + timedelta(days=days - 10)):
        assert kyc.expire_due() == 0
        assert notices(world, "kyc_expiring") == 1 and kyc.is_verified(ANN, clock.utcnow())
        kyc.expire_due()  # the same notice is not sent twice
        assert notices(world, "kyc_expiring") == 1
        assert outbox_types(world.engine).count("kyc.expiring") == 1
    later = clock.now() + timedelta(days=days, minutes=1)
    assert not kyc.is_verified(ANN, later)
    with time_machine.travel(later):
        assert kyc.expire_due() == 1
        assert kyc.status(ANN_CALLER).status == "expired"
        assert kyc.expire_due() == 0  # expired once
        assert kyc.submit(ANN_CALLER, "passport").status == "pending"  # re-verification
    with world.engine.connect() as conn:
        expiry = {
            t.rsplit(".", 2)[-2]: json.loads(d)
            for t, d in conn.execute(
                select(OutboxEvent.type, OutboxEvent.data).where(
                    OutboxEvent.type.like("%.kyc.expir%")
                )
            )
        }
    expires_on = f"{approved.expires_at:%Y-%m-%d}"
    assert expiry["expiring"] == {
        "verification_id": approved.id,
        "user_id": ANN,
        "expires_on": expires_on,
    }
    assert expiry["expired"] == {
        "verification_id": approved.id,
        "user_id": ANN,
        "expired_on": expires_on,
    }
    with world.engine.connect() as conn:
        told = conn.scalar(
            select(Notification.subject).where(Notification.kind == "kyc_expiring").limit(1)
        )
    assert told == f"Your identity check expires on {expires_on}"


def test_a_decision_rolled_back_announces_nothing(world):
    """A provider's verdict applied in the webhook's transaction, which then fails."""
    out = world.kyc.submit(ANN_CALLER, "passport")
    with world.engine.begin() as conn:
        conn.execute(
            update(KycVerification)
            .where(KycVerification.id == out.id)
            .values(status="in_review", provider="test", provider_reference="vs_rolled_back")
        )
    with pytest.raises(RuntimeError), world.engine.begin() as conn:
        assert world.kyc.apply_provider_result(conn, "vs_rolled_back", "verified", "") == "applied"
        raise RuntimeError("the webhook's transaction fails after the decision")
    assert world.kyc.status(ANN_CALLER).status == "in_review"
    assert outbox_types(world.engine) == ["kyc.submitted"]
    assert notices(world, "kyc_decided") == 0


class _Sessions:
    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []

    def create(self, params: dict[str, Any]):
        self.created.append(params)
        return _Session({"id": "vs_123", "url": "https://verify.stripe.com/start/abc"})


class _Session(dict):
    @property
    def id(self) -> str:
        return self["id"]


def test_stripe_identity_sessions_are_created_through_the_sdk_seam(world):
    sessions = _Sessions()
    client = SimpleNamespace(
        v1=SimpleNamespace(identity=SimpleNamespace(verification_sessions=sessions))
    )
    provider = StripeIdentityProvider(client)
    kyc = KycService(world.engine, world.kyc.settings, provider=provider)
    out = kyc.submit(ANN_CALLER, "driving_licence")
    assert out.status == "in_review"
    assert sessions.created == [
        {
            "type": "document",
            "metadata": {"user_id": str(ANN)},
            "options": {
                "document": {"require_matching_selfie": False, "allowed_types": ["driving_license"]}
            },
        }
    ]
    with world.engine.connect() as conn:
        row = conn.execute(
            select(KycVerification.provider, KycVerification.provider_reference)
        ).one()
    assert tuple(row) == ("stripe_identity", "vs_123")
