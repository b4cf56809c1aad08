"""Refusals that carry HTTP headers the client needs (WWW-Authenticate, Retry-After)."""

from __future__ import annotations

from services.errors import AssistantError


class AuthError(AssistantError):
    """401 says how to authenticate (RFC 6750); 429 says when to come back."""

    def __init__(self, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(code, message)
        self.headers = dict(headers or {})
        if self.status == 401:
            self.headers.setdefault("WWW-Authenticate", 'Bearer realm="trading-assist"')


def unauthenticated(message: str) -> AuthError:
    return AuthError(
        "unauthenticated",
        message,
        {"WWW-Authenticate": 'Bearer realm="trading-assist", error="invalid_token"'},
    )
