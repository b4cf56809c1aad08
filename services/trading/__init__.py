"""The trading domain: portfolios, pre-trade checks, orders and paper execution.

The interface other layers code against is re-exported here.
"""

from services.trading.errors import TradingError
from services.trading.execution import FillSpec, apply_fill
from services.trading.models import (
    AccountPortfolio,
    CheckResult,
    OrderPreview,
    OrderRequest,
    OrderResult,
    Portfolio,
    PositionView,
)
from services.trading.prices import LatestClose, PriceSource
from services.trading.service import TradingService

__all__ = [
    "AccountPortfolio",
    "CheckResult",
    "FillSpec",
    "LatestClose",
    "OrderPreview",
    "OrderRequest",
    "OrderResult",
    "Portfolio",
    "PositionView",
    "PriceSource",
    "TradingError",
    "TradingService",
    "apply_fill",
]
