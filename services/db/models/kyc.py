"""Identity checks (know your customer)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped

from services.db.models.base import Base, col


class KycVerification(Base):
    __tablename__ = "kyc_verifications"
    __table_args__ = {"comment": "Identity checks (know your customer); the latest row is current."}

    id: Mapped[int] = col(Integer, primary_key=True, comment="Verification id.")
    user_id: Mapped[int] = col(ForeignKey("users.id"), index=True, comment="Customer (users.id).")
    level: Mapped[str] = col(String(12), comment="basic or enhanced due diligence.")
    status: Mapped[str] = col(
        String(20),
        comment="not_started, pending (submitted), in_review, approved, rejected, "
        "requires_input (the customer must send more) or expired.",
    )
    document_type: Mapped[str | None] = col(
        String(20), comment="passport, national_id or driving_licence."
    )
    submitted_at: Mapped[datetime | None] = col(DateTime, comment="When documents were sent.")
    reviewed_at: Mapped[datetime | None] = col(DateTime, comment="When a reviewer decided.")
    rejection_reason: Mapped[str | None] = col(String(200), comment="Why it was rejected.")
    expires_at: Mapped[datetime | None] = col(DateTime, comment="When an approval lapses.")
    # -- kyc: columns added by revision 0009 --
    provider: Mapped[str | None] = col(
        String(20), comment="Who checks the identity: stripe_identity, manual or test."
    )
    provider_reference: Mapped[str | None] = col(
        String(64), comment="Provider's id of the check, e.g. a Stripe verification session."
    )
    reviewer_id: Mapped[int | None] = col(
        Integer, comment="Staff user who made the last decision (users.id); empty if none."
    )
    requested_input: Mapped[str | None] = col(
        String(300), comment="What the customer was asked to provide when requires_input."
    )
    document_id: Mapped[int | None] = col(
        Integer, comment="The uploaded identity document (documents.id), restricted."
    )
    mismatches: Mapped[str | None] = col(
        String(500), comment="Fields of the document that did not match the profile."
    )
    # -- added by revision 0010 --
    expiry_notice_at: Mapped[datetime | None] = col(
        DateTime, comment="When the customer was told the approval lapses soon; empty if not yet."
    )
