"""Who is asking. Built from the authenticated request, never from model output."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class Role(StrEnum):
    CUSTOMER = "customer"  # sees only their own rows
    SUPPORT = "support"  # sees every customer's rows, personal data masked
    ADMIN = "admin"  # sees everything


class Caller(BaseModel, frozen=True):
    user_id: int | None = Field(None, description="Authenticated user id; None for the operator.")
    role: Role = Role.CUSTOMER

    @property
    def is_scoped(self) -> bool:
        """Customers' SQL is rewritten to their own rows."""
        return self.role is Role.CUSTOMER
