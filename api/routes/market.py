"""Market data over HTTP: a quote, bar history, and the caller's price alerts. Thin: the rules
live in `services.market.service`; its database calls run in a thread."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from api.deps import MarketDep, ToolReader, ToolWriter
from services.ids import RowId
from services.market.service import SYMBOL, AlertOut, BarOut, NewAlert, QuoteOut

router = APIRouter(prefix="/v1", tags=["market"])
SymbolPath = Annotated[str, Path(pattern=SYMBOL.replace("A-Z", "A-Za-z"), max_length=20)]


@router.get("/quotes/{symbol}", response_model=QuoteOut, summary="The latest price of a symbol")
async def quote(symbol: SymbolPath, market: MarketDep, _caller: ToolReader) -> QuoteOut:
    return await asyncio.to_thread(market.quote, symbol)


@router.get("/bars/{symbol}", response_model=list[BarOut], summary="Bars in a time window")
async def bars(
    symbol: SymbolPath,
    market: MarketDep,
    _caller: ToolReader,
    start: Annotated[datetime, Query(description="Bars starting at or after (UTC).")],
    end: Annotated[datetime, Query(description="Bars starting before (UTC).")],
    interval: Annotated[Literal["1m", "1h", "1d"], Query()] = "1d",
) -> list[BarOut]:
    return await asyncio.to_thread(market.history, symbol, interval, start, end)


@router.get("/alerts", response_model=list[AlertOut], summary="Your price alerts")
async def list_alerts(caller: ToolReader, market: MarketDep) -> list[AlertOut]:
    return await asyncio.to_thread(market.list_alerts, caller)


@router.post("/alerts", response_model=AlertOut, status_code=201, summary="Set a price alert")
async def create_alert(body: NewAlert, caller: ToolWriter, market: MarketDep) -> AlertOut:
    return await asyncio.to_thread(
        market.create_alert, caller, body.symbol, body.direction, body.threshold
    )


@router.delete("/alerts/{alert_id}", response_model=AlertOut, summary="Delete your alert")
async def delete_alert(alert_id: RowId, caller: ToolWriter, market: MarketDep) -> AlertOut:
    return await asyncio.to_thread(market.delete_alert, caller, alert_id)
