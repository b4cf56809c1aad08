"""Who checks an identity: Stripe Identity, or a test provider, behind one small interface.

Both report back the same way: a Stripe event (`identity.verification_session.verified` or
`.requires_input`) posted to the platform's Stripe webhook. The test provider signs those events
with the webhook secret itself, so tests and local runs drive the very path Stripe would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any, Protocol

import stripe
from pydantic import BaseModel, Field

from services.errors import AssistantError
from services.settings import Settings


class Session(BaseModel):
    reference: str = Field(description="Provider's id of the verification session.")
    url: str | None = Field(None, description="Where the customer completes the check.")


class IdentityProvider(Protocol):
    name: str

    def start(self, user_id: int, document_type: str) -> Session: ...


class StripeIdentityProvider:
    """Stripe Identity verification sessions, thin over the SDK."""

    name = "stripe_identity"

    def __init__(self, client: Any):
        self._client = client

    @classmethod
    def from_settings(cls, settings: Settings) -> StripeIdentityProvider:
        if settings.stripe_api_key is None:
            raise AssistantError(
                "payments_not_configured", "identity checks need STRIPE_API_KEY, which is unset"
            )
        bases = {"api": settings.stripe_api_base} if settings.stripe_api_base else {}
        return cls(
            stripe.StripeClient(settings.stripe_api_key.get_secret_value(), base_addresses=bases)
        )

    def start(self, user_id: int, document_type: str) -> Session:
        allowed = {"passport": "passport", "national_id": "id_card"}.get(document_type)
        options: dict[str, Any] = {"require_matching_selfie": False}
        if allowed:
            options["allowed_types"] = [allowed]
        elif document_type == "driving_licence":
            options["allowed_types"] = ["driving_license"]
        try:
            session = self._client.v1.identity.verification_sessions.create(
                params={
                    "type": "document",
                    "metadata": {"user_id": str(user_id)},
                    "options": {"document": options},
                }
            )
        except stripe.StripeError as exc:
            raise AssistantError(
                "payment_provider_error", f"Stripe Identity refused: {exc.user_message or exc}"
            ) from exc
        return Session(reference=session.id, url=session.get("url"))


class TestIdentityProvider:
    """Starts sessions locally and writes the signed Stripe events that finish them."""

    name = "test"

    def __init__(self, webhook_secret: str):
        self._secret = webhook_secret

    def start(self, user_id: int, document_type: str) -> Session:
        return Session(reference=f"vs_test_{uuid.uuid4().hex[:16]}")

    def event(self, reference: str, result: str, reason: str = "") -> tuple[bytes, str]:
        """A signed `identity.verification_session.<result>` delivery: (payload, signature
        header), ready to post to /v1/webhooks/stripe."""
        session: dict[str, Any] = {"id": reference, "object": "identity.verification_session"}
        if reason:
            session["last_error"] = {"code": "document_unverified_other", "reason": reason}
        body = {
            "id": f"evt_{uuid.uuid4().hex[:20]}",
            "object": "event",
            "type": f"identity.verification_session.{result}",
            "created": int(time.time()),
            "data": {"object": session},
        }
        payload = json.dumps(body).encode()
        return payload, sign(payload, self._secret)


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header for `payload`, as Stripe computes it."""
    stamp = int(time.time()) if timestamp is None else timestamp
    signed = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={signed}"
