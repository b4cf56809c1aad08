"""Privacy below the router: a confidential request never reaches a cloud provider.

The router decides where a request goes; this module decides whether it may. Whatever the router
asks, a request whose sensitivity is not explicitly cleared for the cloud is refused with
`PrivacyViolation`, and the refusal is handed to an audit hook first (the caller wires the hook
to the audit log). Unknown labels fail closed.

>>> refused = []
>>> guard_request("openrouter", ProviderKind.CLOUD, "m", "confidential", refused.append)
Traceback (most recent call last):
...
services.llm.errors.PrivacyViolation: refused: a confidential request may only use a local model, not openrouter
>>> refused[0].sensitivity, refused[0].provider
('confidential', 'openrouter')
>>> guard_request("ollama", ProviderKind.LOCAL, "m", "confidential", refused.append)
"""  # noqa: E501

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from services import clock
from services.llm.errors import PrivacyViolation

log = logging.getLogger(__name__)


class ProviderKind(StrEnum):
    LOCAL = "local"  # the data stays on machines we run
    CLOUD = "cloud"  # the data leaves for a third party


class Sensitivity(StrEnum):
    PUBLIC = "public"  # no customer data at all
    INTERNAL = "internal"  # the firm's own, non-personal information
    CONFIDENTIAL = "confidential"  # personal, account or payment data, confidential tables


CLOUD_CLEARED: frozenset[str] = frozenset({Sensitivity.PUBLIC, Sensitivity.INTERNAL})

SENSITIVITY_KEY = "sensitivity"  # the run-config metadata key a chat model checks on every call


class PrivacyRefusal(BaseModel):
    """What the audit hook receives when a cloud call is refused."""

    provider: str
    model: str
    sensitivity: str
    where: str = Field(description="'handle' (asked for a model) or 'call' (a call was made)")
    occurred_at: datetime = Field(default_factory=clock.now)


AuditHook = Callable[[PrivacyRefusal], None]


def guard_request(
    provider: str,
    kind: ProviderKind,
    model: str,
    sensitivity: str | None,
    audit: AuditHook | None,
    *,
    where: str = "handle",
) -> None:
    """Return if `kind` may serve a request of this sensitivity; else audit and refuse."""
    if kind is ProviderKind.LOCAL or sensitivity in CLOUD_CLEARED:
        return
    label = str(sensitivity) if sensitivity else "unlabelled"
    refusal = PrivacyRefusal(provider=provider, model=model, sensitivity=label, where=where)
    log.warning("refused a %s request to cloud provider %s (%s)", label, provider, where)
    if audit is not None:
        try:
            audit(refusal)
        except Exception:  # the refusal stands even when the audit write fails
            log.exception("audit hook failed while recording a privacy refusal")
    raise PrivacyViolation(provider, label)
