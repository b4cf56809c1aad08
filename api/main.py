"""The FastAPI application. Thin: it turns HTTP into assistant calls and errors into JSON."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.routes import chat, documents, health, metrics
from graphs.assistant import Assistant
from services.errors import AssistantError

log = logging.getLogger(__name__)


def create_app(assistant: Assistant, *, warm_up: bool = False) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.assistant = assistant
        warming = asyncio.create_task(assistant.warm_up()) if warm_up else None
        yield
        if warming:
            warming.cancel()
        await assistant.aclose()

    app = FastAPI(
        title="Trading AI Assist",
        summary="Ask about accounts, orders, positions and payments in plain language.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.assistant = assistant
    app.state.documents = assistant.documents
    app.include_router(health.router)
    app.include_router(chat.router)
    app.include_router(metrics.router)
    app.include_router(documents.router)

    @app.exception_handler(AssistantError)
    async def assistant_error(_request: Request, exc: AssistantError) -> JSONResponse:
        log.info("request refused: %s %s", exc.code, exc.message)
        return JSONResponse({"error": exc.body().model_dump()}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body')}: {e['msg']}" for e in exc.errors()
        )
        log.info("invalid request: %s", problems)
        return JSONResponse(
            {"error": {"code": "invalid_request", "message": problems}}, status_code=422
        )

    return app
