"""Who is asking. Built from the authenticated request, never from model output.

A `Caller` carries the platform role (which rows and tables it may see), the scopes its
credential was granted (which surfaces it may use), how it was authenticated and a name for
logs. `Caller(role=...)` alone is the local operator's or a test's caller: its scopes are the
role's defaults.

>>> Caller(role=Role.SUPPORT).allows(Scope.DOCUMENTS_WRITE), Caller().allows(Scope.ADMIN)
(True, False)
>>> Caller(role=Role.SERVICE).scopes
frozenset()
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field


class Role(StrEnum):
    CUSTOMER = "customer"  # sees only their own rows
    SUPPORT = "support"  # sees every customer's rows, personal data masked
    ADMIN = "admin"  # sees everything
    SERVICE = "service"  # another system: staff's view of the data, only what its scopes say


class Scope(StrEnum):
    """What a credential may do, whatever its role: one scope per surface."""

    CHAT = "chat"
    DOCUMENTS_READ = "documents:read"
    DOCUMENTS_WRITE = "documents:write"
    TOOLS_READ = "tools:read"
    TOOLS_WRITE = "tools:write"
    ADMIN = "admin"


_USER_SCOPES = frozenset({Scope.CHAT, Scope.DOCUMENTS_READ, Scope.TOOLS_READ, Scope.TOOLS_WRITE})

# The most each role may hold; a credential may narrow it (a token's scp, an API key's scopes).
# A service holds nothing by default: its key or token names every scope it gets.
ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.CUSTOMER: _USER_SCOPES,
    Role.SUPPORT: _USER_SCOPES | {Scope.DOCUMENTS_WRITE},
    Role.ADMIN: frozenset(Scope),
    Role.SERVICE: frozenset(Scope),
}

AuthMethod = Literal["local", "entra", "dev_token", "api_key"]


def default_scopes(role: Role) -> frozenset[Scope]:
    """What a caller of this role holds when no credential narrowed it."""
    return frozenset() if role is Role.SERVICE else ROLE_SCOPES[role]


def _role_defaults(data: dict[str, Any]) -> frozenset[Scope]:
    return default_scopes(Role(data.get("role", Role.CUSTOMER)))


class Caller(BaseModel, frozen=True):
    user_id: int | None = Field(None, description="Authenticated user id; None for the operator.")
    role: Role = Role.CUSTOMER
    scopes: frozenset[Scope] = Field(
        default_factory=_role_defaults,
        description="What this caller may do; default: everything its role may.",
    )
    auth: AuthMethod = Field("local", description="How the caller proved who it is.")
    principal: str = Field(
        "", description="Who, for logs and audit: a user name, a key name, an object id."
    )

    @property
    def is_scoped(self) -> bool:
        """Customers' SQL is rewritten to their own rows."""
        return self.role is Role.CUSTOMER

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes
