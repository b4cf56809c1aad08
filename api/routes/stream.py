"""`/v1/stream`: a WebSocket of the caller's real-time market events.

The caller is identified from the handshake headers the way every route identifies it (local
auth: X-User-Id). They receive quotes of the symbols they hold and of those they ask for
(`?symbols=AAPL,MSFT`), and their own order, fill, alert and position events; the hub never
hands them anyone else's. The first message confirms the subscription and lists its symbols.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Annotated

from fastapi import APIRouter, Header, Query, WebSocket, WebSocketDisconnect

from api.deps import socket_caller
from services.errors import AssistantError
from services.ids import RowId
from services.market.hub import StreamEvent, StreamLagging
from services.market.service import SYMBOL, MarketData

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["stream"])
MAX_SYMBOLS = 100
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


def _asked(symbols: str) -> set[str]:
    asked = {s.strip().upper() for s in symbols.split(",") if s.strip()}
    bad = sorted(s for s in asked if not re.fullmatch(SYMBOL, s))
    if bad:
        raise AssistantError("invalid_symbols", f"not symbols: {', '.join(bad)}")
    if len(asked) > MAX_SYMBOLS:
        raise AssistantError("invalid_symbols", f"at most {MAX_SYMBOLS} symbols")
    return asked


@router.websocket("/stream")
async def stream(
    websocket: WebSocket,
    symbols: Annotated[str, Query(description="Comma-separated symbols to quote.")] = "",
    x_user_id: Annotated[
        RowId | None, Header(description="Local auth: the acting user's id.")
    ] = None,
) -> None:
    market: MarketData = websocket.app.state.market
    try:
        asked = _asked(symbols)
        caller = await asyncio.to_thread(socket_caller, websocket, x_user_id)
        held = await asyncio.to_thread(market.held_symbols, caller)
    except AssistantError as exc:
        log.info("stream refused: %s %s", exc.code, exc.message)
        await websocket.close(code=POLICY_VIOLATION, reason=exc.message)
        return
    await websocket.accept()
    sub = market.hub.subscribe(caller.user_id, asked | held)
    receiving = asyncio.create_task(_until_closed(websocket))
    try:
        hello = StreamEvent(kind="subscribed", data={"symbols": sorted(sub.symbols)})
        await websocket.send_json(hello.model_dump(mode="json"))
        while True:
            getting = asyncio.create_task(sub.next())
            await asyncio.wait({getting, receiving}, return_when=asyncio.FIRST_COMPLETED)
            if not getting.done():  # the client went away
                getting.cancel()
                break
            await websocket.send_json(getting.result().model_dump(mode="json"))
    except StreamLagging as exc:
        await websocket.close(code=TRY_AGAIN_LATER, reason=str(exc))
    except WebSocketDisconnect:
        pass
    finally:
        market.hub.unsubscribe(sub)
        receiving.cancel()


async def _until_closed(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends until it disconnects."""
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        return
