"""The trading domain's refusals; their codes and HTTP statuses are in `AssistantError.STATUS`."""

from __future__ import annotations

from services.errors import AssistantError


class TradingError(AssistantError):
    """A trading request refused for a reason the caller can act on (code + message)."""
