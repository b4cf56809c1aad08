"""People with a login and their credentials: users, API keys, chat UI passwords."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped

from services.db.models.base import Base, col


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # an index, not a constraint: SQLite adds it without rebuilding the referenced table
        Index("uq_users_external_id", "external_id", unique=True),
        {"comment": "People with a login: customers, support staff and admins."},
    )

    id: Mapped[int] = col(Integer, primary_key=True, comment="User id.")
    email: Mapped[str] = col(
        String(255), unique=True, comment="Login email address (personal data)."
    )
    full_name: Mapped[str] = col(String(200), comment="Legal full name (personal data).")
    phone: Mapped[str | None] = col(String(40), comment="Phone number (personal data).")
    date_of_birth: Mapped[date | None] = col(Date, comment="Date of birth (personal data).")
    country: Mapped[str] = col(String(2), comment="Country of residence, ISO 3166 alpha-2 code.")
    role: Mapped[str] = col(String(20), comment="Platform role: customer, support or admin.")
    tier: Mapped[str] = col(String(20), comment="Customer tier: standard, silver, gold or vip.")
    status: Mapped[str] = col(String(20), comment="Login status: active, locked or closed.")
    created_at: Mapped[datetime] = col(DateTime, comment="When the user signed up (UTC).")
    external_id: Mapped[str | None] = col(
        String(64),
        comment="Object id (oid) in the company's Microsoft Entra ID directory; empty for "
        "users who never signed in with it.",
    )


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = {"comment": "Keys other systems call the API with; only their hash is kept."}

    id: Mapped[int] = col(Integer, primary_key=True, comment="Key id.")
    name: Mapped[str] = col(String(100), unique=True, comment="Who uses it, e.g. crm-sync.")
    prefix: Mapped[str] = col(
        String(12), comment="First characters of the key, to recognise it in a list."
    )
    key_hash: Mapped[str] = col(
        String(64), unique=True, comment="sha256 (hex) of the key; the key itself is not kept."
    )
    role: Mapped[str] = col(String(20), comment="Platform role it acts with, usually service.")
    scopes: Mapped[str] = col(String(200), comment="Comma-separated scopes, e.g. tools:read.")
    user_id: Mapped[int | None] = col(
        ForeignKey("users.id"), comment="User it acts for (users.id); empty for a system."
    )
    created_at: Mapped[datetime] = col(DateTime, comment="When it was created (UTC).")
    last_used_at: Mapped[datetime | None] = col(DateTime, comment="Last accepted use (UTC).")
    revoked_at: Mapped[datetime | None] = col(
        DateTime, comment="When it was revoked (UTC); a revoked key is refused."
    )


class UserPassword(Base):
    __tablename__ = "user_passwords"
    __table_args__ = {
        "comment": "Chat UI sign-in passwords (local mode), as scrypt hashes; never the password."
    }

    user_id: Mapped[int] = col(ForeignKey("users.id"), primary_key=True, comment="User (users.id).")
    password_hash: Mapped[str] = col(
        String(255), comment="scrypt$<log2 n>$<r>$<p>$<salt>$<key>: salt and key in base64."
    )
    updated_at: Mapped[datetime] = col(DateTime, comment="When the password was last set (UTC).")
