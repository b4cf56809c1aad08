"""The KYC workflow over `kyc_verifications` (the latest row per user is the current check).

Every move goes through `machine.next_status`; a move the machine does not allow is a
`kyc_transition_not_allowed` error, audited, with nothing written. A new attempt after a
rejection or an expiry is a new row; every other move updates the current one. Decisions
(approved, rejected, requires_input) are audited with the reviewer. Every move writes its event
to the outbox in the move's own transaction (`announce`); the customer is notified from there.
`standing` is the one rule for "verified", which the pre-trade check reads.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, func, insert, select, update

from services import audit, clock
from services.db.models import KycVerification, User
from services.errors import AssistantError
from services.identity import Caller, Role
from services.kyc import announce
from services.kyc.documents import DocumentFields, mismatches
from services.kyc.machine import next_status
from services.kyc.providers import IdentityProvider
from services.settings import Settings

log = logging.getLogger(__name__)

KYC = KycVerification.__table__
STAFF = (Role.SUPPORT, Role.ADMIN)
OPEN = ("pending", "in_review")
NEW_ATTEMPT_FROM = ("rejected", "expired")
DECISIONS = {"approve": "approved", "reject": "rejected", "request_input": "requires_input"}


class KycOut(BaseModel):
    id: int | None = Field(None, description="Verification id; empty when never started.")
    user_id: int = Field(description="Customer (users.id).")
    status: str = Field(
        description="not_started, pending, in_review, approved, rejected, "
        "requires_input or expired."
    )
    document_type: str | None = Field(None, description="passport, national_id, ...")
    submitted_at: datetime | None = Field(None, description="When documents were sent (UTC).")
    reviewed_at: datetime | None = Field(None, description="When it was decided (UTC).")
    expires_at: datetime | None = Field(None, description="When an approval lapses (UTC).")
    rejection_reason: str | None = Field(None, description="Why it was rejected.")
    requested_input: str | None = Field(None, description="What more is needed.")
    mismatches: str | None = Field(None, description="Document fields that did not match.")

    def sentence(self) -> str:
        text = f"Identity check: {self.status.replace('_', ' ')}"
        if self.status == "approved" and self.expires_at:
            text += f", valid until {self.expires_at:%Y-%m-%d}"
        if self.rejection_reason:
            text += f" ({self.rejection_reason})"
        if self.requested_input:
            text += f"; needed: {self.requested_input}"
        return text + "."


class KycStanding(BaseModel):
    """Whether a customer's identity check lets them trade now, and if not, what to tell them."""

    verified: bool
    status: str = Field(description="The current check's status; not_started when none.")
    message: str = Field(description="One sentence for the customer.")


def current_check(conn: Connection, user_id: int) -> Any:
    """The user's current check: the latest row (None when never started)."""
    return conn.execute(
        select(KYC).where(KYC.c.user_id == user_id).order_by(KYC.c.id.desc()).limit(1)
    ).first()


def standing(conn: Connection, user_id: int, now: datetime) -> KycStanding:
    """The one rule for "verified": the current check is approved and its expiry is still
    ahead (an approval without an expiry is not current). Read on the caller's connection, so
    the pre-trade check sees it inside the order's own transaction. `now` is naive UTC or
    aware."""
    moment = now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now
    row = current_check(conn, user_id)
    if row is None:
        return KycStanding(
            verified=False,
            status="not_started",
            message="identity verification (KYC) has not been started",
        )
    lapsed = row.expires_at is None or row.expires_at <= moment
    if row.status == "expired" or (row.status == "approved" and lapsed):
        message = "identity verification (KYC) has expired; please renew it"
    elif row.status == "approved":
        return KycStanding(
            verified=True,
            status=row.status,
            message="identity verified (KYC approved and current)",
        )
    elif row.status == "rejected":
        message = "identity verification (KYC) was rejected" + (
            f": {row.rejection_reason}" if row.rejection_reason else ""
        )
    elif row.status == "requires_input":
        message = "identity verification (KYC) needs more from you" + (
            f": {row.requested_input}" if row.requested_input else ""
        )
    else:
        message = f"identity verification (KYC) is {row.status.replace('_', ' ')}, not approved"
    return KycStanding(verified=False, status=row.status, message=message)


class KycService:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        provider: IdentityProvider | None = None,
    ):
        self.engine = engine
        self.settings = settings
        self.provider = provider

    # -- reading --

    def status(self, caller: Caller, user_id: int | None = None) -> KycOut:
        subject = self._subject(caller, user_id)
        with self.engine.connect() as conn:
            row = current_check(conn, subject)
        return _out(row, subject)

    def is_verified(self, user_id: int, now: datetime) -> bool:
        """True when the user's current check is approved and not past its expiry (see
        `standing`, which the pre-trade check reads). `now` is naive UTC or aware."""
        with self.engine.connect() as conn:
            return standing(conn, user_id, now).verified

    def review_queue(self, staff: Caller, limit: int = 50) -> list[KycOut]:
        """Open cases (pending or in review), oldest first: each user's current check only."""
        self._require_staff(staff, "queue")
        latest = select(func.max(KYC.c.id)).group_by(KYC.c.user_id)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(KYC)
                .where(KYC.c.id.in_(latest), KYC.c.status.in_(OPEN))
                .order_by(KYC.c.submitted_at, KYC.c.id)
                .limit(limit)
            ).all()
        return [_out(r, r.user_id) for r in rows]

    # -- the customer --

    def check_document(self, caller: Caller, fields: DocumentFields) -> None:
        """Refuse (audited) a document whose fields do not match the caller's profile."""
        user_id = self._subject(caller, None)
        with self.engine.connect() as conn:
            user = conn.execute(
                select(User.full_name, User.date_of_birth).where(User.id == user_id)
            ).first()
        if user is None:
            raise AssistantError("unknown_user", f"there is no user {user_id}")
        found = mismatches(fields, user.full_name, user.date_of_birth, clock.today())
        if found:
            self._refuse(
                caller,
                "submit",
                "kyc_document_mismatch",
                "the document does not match your profile: " + "; ".join(found),
                mismatches=found,
            )

    def submit(self, caller: Caller, document_type: str, document_id: int | None = None) -> KycOut:
        """Submit (or resubmit) the caller's check with an uploaded document; with a provider
        the check goes straight to in_review at the provider."""
        user_id = self._subject(caller, None)
        with self.engine.connect() as conn:
            row = current_check(conn, user_id)
        try:  # refused before the provider opens a session for nothing
            next_status(row.status if row is not None else "not_started", "submit")
        except AssistantError as exc:
            self._refuse(caller, "submit", exc.code, exc.message)
        session = None
        if self.provider is not None:
            session = self.provider.start(user_id, document_type)
        now = clock.utcnow()
        problem = None
        with self.engine.begin() as conn:
            row = current_check(conn, user_id)
            status = row.status if row is not None else "not_started"
            try:
                target = next_status(status, "submit")
            except AssistantError as exc:
                problem = exc
            else:
                values: dict[str, Any] = {
                    "status": target,
                    "document_type": document_type,
                    "submitted_at": now,
                    "document_id": document_id,
                    "requested_input": None,
                    "provider": self.provider.name if self.provider else "manual",
                    "provider_reference": session.reference if session else None,
                }
                if session is not None:
                    values["status"] = next_status(target, "begin_review")
                if row is None or status in NEW_ATTEMPT_FROM:
                    kyc_id = conn.execute(
                        insert(KycVerification).values(user_id=user_id, level="basic", **values)
                    ).inserted_primary_key[0]
                else:
                    kyc_id = row.id
                    conn.execute(
                        update(KycVerification).where(KycVerification.id == kyc_id).values(**values)
                    )
                row = conn.execute(select(KYC).where(KYC.c.id == kyc_id)).one()
                announce.submitted(conn, row)
        if problem is not None:
            self._refuse(caller, "submit", problem.code, problem.message)
        audit.record(self.engine, caller, "kyc.submit", "ok", kyc_id=row.id, status=row.status)
        return _out(row, user_id)

    # -- staff --

    def review(
        self, staff: Caller, user_id: int, decision: str, reason: str | None = None
    ) -> KycOut:
        """approve, reject (with a reason) or request_input (saying what) on a user's current
        check; a pending check is taken into review first. Audited with the reviewer."""
        self._require_staff(staff, "review")
        if decision not in DECISIONS:
            self._refuse(staff, "review", "invalid_arguments", f"unknown decision {decision!r}")
        if decision != "approve" and not (reason or "").strip():
            self._refuse(staff, "review", "invalid_arguments", "say why (reason)")
        problem = None
        with self.engine.begin() as conn:
            row = current_check(conn, user_id)
            if row is None:
                problem = AssistantError("kyc_not_found", f"user {user_id} has no identity check")
            else:
                try:
                    status = row.status
                    if status == "pending":
                        status = next_status(status, "begin_review")
                    next_status(status, decision)
                except AssistantError as exc:
                    problem = exc
                else:
                    row = self._decide(conn, row, decision, reason, staff.user_id)
        if problem is not None:
            self._refuse(
                staff, "review", problem.code, problem.message, user_id=user_id, decision=decision
            )
        audit.record(
            self.engine,
            staff,
            "kyc.review",
            "ok",
            user_id=user_id,
            kyc_id=row.id,
            decision=decision,
            reviewer_id=staff.user_id,
            reason=reason,
        )
        return _out(row, user_id)

    def _decide(
        self,
        conn: Connection,
        row: Any,
        decision: str,
        reason: str | None,
        reviewer_id: int | None,
    ) -> Any:
        """Write one decision and announce it, inside the caller's transaction."""
        now = clock.utcnow()
        target = DECISIONS[decision]
        values: dict[str, Any] = {"status": target, "reviewed_at": now, "reviewer_id": reviewer_id}
        if target == "approved":
            values["expires_at"] = now + timedelta(days=self.settings.kyc_validity_days)
            values["rejection_reason"] = None
        elif target == "rejected":
            values["rejection_reason"] = (reason or "")[:200]
        else:
            values["requested_input"] = (reason or "")[:300]
        conn.execute(update(KycVerification).where(KycVerification.id == row.id).values(**values))
        row = conn.execute(select(KYC).where(KYC.c.id == row.id)).one()
        announce.decided(conn, row, reason)
        return row

    # -- the provider's word, through the Stripe webhook --

    def apply_provider_result(
        self, conn: Connection, reference: str, result: str, reason: str
    ) -> str:
        """identity.verification_session.<result> for session `reference`: verified approves,
        requires_input asks for more. Unknown sessions and moves the machine refuses (a late
        event for a check already decided) are logged and change nothing."""
        row = conn.execute(
            select(KYC).where(KYC.c.provider_reference == reference).order_by(KYC.c.id.desc())
        ).first()
        if row is None:
            log.warning("identity session %s matches no check here", reference)
            return "unknown"
        decision = {"verified": "approve", "requires_input": "request_input"}.get(result)
        if decision is None:
            return "ignored"
        try:
            next_status(row.status, decision)
        except AssistantError as exc:
            log.info("identity session %s: %s; ignored", reference, exc.message)
            return "stale"
        self._decide(conn, row, decision, reason or "the provider needs a clearer document", None)
        return "applied"

    # -- the scheduled job --

    def expire_due(self) -> int:
        """Approved checks past their expiry become expired (how many did); those expiring
        within `KYC_EXPIRY_NOTICE_DAYS` are announced as expiring, once per check.

        Each row moves only if it still reads as it did (approved; not yet told), so jobs
        running at once in several processes expire and announce each check once."""
        now = clock.utcnow()
        notice = now + timedelta(days=self.settings.kyc_expiry_notice_days)
        expired = told = 0
        with self.engine.begin() as conn:
            lapsed = conn.execute(
                select(KYC).where(KYC.c.status == "approved", KYC.c.expires_at <= now)
            ).all()
            for row in lapsed:
                target = next_status(row.status, "expire")
                if _move(conn, row, KYC.c.status == "approved", status=target):
                    announce.expired(conn, _check(conn, row.id))
                    expired += 1
            soon = conn.execute(
                select(KYC).where(
                    KYC.c.status == "approved",
                    KYC.c.expires_at > now,
                    KYC.c.expires_at <= notice,
                    KYC.c.expiry_notice_at.is_(None),
                )
            ).all()
            for row in soon:
                if _move(conn, row, KYC.c.expiry_notice_at.is_(None), expiry_notice_at=now):
                    announce.expiring(conn, row)
                    told += 1
        log.info("kyc: %s approvals expired, %s told they expire soon", expired, told)
        return expired

    # -- helpers --

    def _subject(self, caller: Caller, user_id: int | None) -> int:
        if caller.role is Role.CUSTOMER or user_id is None:
            if caller.user_id is None:
                raise AssistantError("unknown_user", "sign in to see your identity check")
            return caller.user_id
        return user_id

    def _require_staff(self, caller: Caller, action: str) -> None:
        if caller.role not in STAFF:
            self._refuse(
                caller, action, "tool_forbidden", "only support staff and admins may review"
            )

    def _refuse(self, caller: Caller, action: str, code: str, message: str, **detail: Any):
        log.info("kyc.%s refused (%s): %s", action, code, message)
        audit.record(
            self.engine, caller, f"kyc.{action}", "rejected", code=code, reason=message, **detail
        )
        raise AssistantError(code, message)


def _check(conn: Connection, kyc_id: int) -> Any:
    return conn.execute(select(KYC).where(KYC.c.id == kyc_id)).one()


def _move(conn: Connection, row: Any, still: Any, **values: Any) -> bool:
    """Update one check if `still` holds for it; False when another job moved it first."""
    moved = conn.execute(
        update(KycVerification).where(KycVerification.id == row.id, still).values(**values)
    ).rowcount
    return bool(moved)


def _out(row: Any, user_id: int) -> KycOut:
    if row is None:
        return KycOut(user_id=user_id, status="not_started")
    return KycOut.model_validate(dict(row._mapping))
