"""The KYC workflow's events, written to the outbox on the connection that makes the change: a
check submitted, decided (approved, rejected, more input needed), about to expire, expired.
A rolled-back move announces nothing; the customer's notifications follow from these events.

Each function takes the `kyc_verifications` row as it reads after the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from services.events.catalogue import (
    KycDecided,
    KycExpired,
    KycExpiring,
    KycSubmitted,
    Payload,
    new_event,
)
from services.events.outbox import record


def _record(conn: Connection, check: Any, payload: Payload) -> None:
    record(conn, new_event(payload, subject=f"kyc/{check.id}"))


def submitted(conn: Connection, check: Any) -> None:
    _record(
        conn,
        check,
        KycSubmitted(
            verification_id=check.id,
            user_id=check.user_id,
            level=check.level,
            document_type=check.document_type,
            provider=check.provider or "manual",
        ),
    )


def decided(conn: Connection, check: Any, reason: str | None) -> None:
    _record(
        conn,
        check,
        KycDecided(
            verification_id=check.id,
            user_id=check.user_id,
            level=check.level,
            decision=check.status,
            reason=reason,
        ),
    )


def expiring(conn: Connection, check: Any) -> None:
    _record(
        conn,
        check,
        KycExpiring(
            verification_id=check.id, user_id=check.user_id, expires_on=check.expires_at.date()
        ),
    )


def expired(conn: Connection, check: Any) -> None:
    _record(
        conn,
        check,
        KycExpired(
            verification_id=check.id, user_id=check.user_id, expired_on=check.expires_at.date()
        ),
    )
