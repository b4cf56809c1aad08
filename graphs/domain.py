"""The domain services one assistant's tools act through, built once, on one database.

Trading prices orders from market data and fills triggered ones when a price moves; payments
and KYC come with Stripe's webhooks; notifications deliver by the configured channels. An
order that changes is told to its owner's live stream. The tools see these as `ToolServices`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from retrieval.index import DocumentIndex
from retrieval.library import DocumentLibrary
from services.market.hub import StreamEvent
from services.market.service import MarketData
from services.notifications.service import NotificationService
from services.payments.wiring import PaymentServices, build_payment_services
from services.settings import Settings
from services.trading import OrderResult, TradingService
from tools.context import ToolServices


@dataclass(frozen=True)
class Domain:
    market: MarketData
    trading: TradingService
    notifications: NotificationService
    payments: PaymentServices
    tool_services: ToolServices


def domain_services(
    settings: Settings,
    engine: Engine,
    *,
    documents: DocumentLibrary | None = None,
    index: DocumentIndex | None = None,
) -> Domain:
    market = MarketData(engine, settings)

    def order_changed(order: OrderResult) -> None:
        """An order placed, filled, cancelled or rejected: its owner's stream hears of it."""
        if order.user_id is None:
            return
        kind = "fill" if order.filled_quantity and order.status != "cancelled" else "order"
        event = StreamEvent(kind=kind, symbol=order.symbol, data=order.model_dump(mode="json"))
        market.hub.publish_to_user(order.user_id, event)

    trading = TradingService(engine, settings, prices=market, on_change=order_changed)
    market.on_triggered = trading.fill_triggered
    notifications = NotificationService.from_settings(settings, engine)
    payments = build_payment_services(settings, engine)
    tool_services = ToolServices(
        engine=engine,
        settings=settings,
        documents=documents,
        index=index,
        market=market,
        trading=trading,
        payments=payments.payments,
        kyc=payments.kyc,
        notifications=notifications,
    )
    return Domain(market, trading, notifications, payments, tool_services)
