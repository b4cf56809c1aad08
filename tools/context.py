"""The services the tools are faces of, built once by whoever assembles the platform.

Tools hold no business rules of their own: each reads its caller from the `ToolContext` and
calls one of these. A service that is not set up here (no document index on this deployment,
say) makes its tools answer plainly that it is not available.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from retrieval.index import DocumentIndex
from retrieval.library import DocumentLibrary
from services.errors import AssistantError
from services.market.service import MarketData
from services.settings import Settings
from services.trading import TradingService


@dataclass(frozen=True)
class ToolServices:
    engine: Engine
    settings: Settings
    trading: TradingService | None = None
    market: MarketData | None = None
    documents: DocumentLibrary | None = None
    index: DocumentIndex | None = None
    payments: Any = None  # services.payments.service.PaymentService
    kyc: Any = None  # services.kyc.service.KycService
    notifications: Any = None  # services.notifications.service.NotificationService

    def need(self, name: str) -> Any:
        """The service called `name`, or a clear error when this deployment has none."""
        service = getattr(self, name)
        if service is None:
            raise AssistantError(
                "service_unavailable", f"the {name} service is not set up on this deployment"
            )
        return service
