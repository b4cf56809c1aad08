"""The FastAPI application. Thin: it turns HTTP into assistant calls and errors into JSON."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from starlette.routing import Route

from api.body_limit import BodyLimit
from api.deps import mcp_caller
from api.http_headers import SecurityHeaders
from api.mcp import McpEndpoint
from api.rate_limit import RateLimiter
from api.request_metrics import HttpMetrics, RequestMetrics
from api.routes import (
    chat,
    documents,
    feedback,
    health,
    metrics,
    notifications,
    openai_compat,
    stream,
    threads,
    tools,
    webhooks,
    widget,
)
from api.routes import market as market_routes
from api.sign_in_limit import SignInLimit
from graphs.assistant import Assistant
from services.auth.authenticator import Authenticator
from services.errors import AssistantError
from services.market.service import MarketData
from services.notifications.service import NotificationService
from services.telemetry import configure_tracing, tracing_enabled
from services.workers import background_work

log = logging.getLogger(__name__)
UI_SIGN_IN = "/chat/login"  # Chainlit's password sign-in, where cli/server.py mounts the UI


def create_app(
    assistant: Assistant, *, warm_up: bool = False, market: MarketData | None = None
) -> FastAPI:
    """`market` is the market data service whose pipeline feeds /v1/stream; by default one on
    the assistant's database (its stream then carries what that instance applies)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.assistant = assistant
        warming = asyncio.create_task(assistant.warm_up()) if warm_up else None
        async with (
            background_work(assistant.settings, assistant.engine) as events,
            app.state.mcp.sessions.run(),
        ):
            app.state.events = events
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
    settings = assistant.settings
    app.state.assistant = assistant
    app.state.documents = assistant.documents
    app.state.notifications = NotificationService.from_settings(
        assistant.settings, assistant.engine
    )
    app.state.market = market or assistant.market
    app.state.warm_up = warm_up
    app.state.authenticator = Authenticator(settings, assistant.engine, assistant.caller)
    app.state.rate_limiter = RateLimiter(settings)
    # the chat UI's password sign-in, mounted at /chat by the server (cli/server.py)
    app.add_middleware(SignInLimit, limiter=app.state.rate_limiter, path=UI_SIGN_IN)
    # outermost last: headers and the request id wrap even a refused body
    app.add_middleware(
        BodyLimit,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
    )
    app.add_middleware(SecurityHeaders)
    app.state.http_metrics = HttpMetrics()
    app.add_middleware(RequestMetrics, metrics=app.state.http_metrics)  # a refused body too
    configure_tracing(settings)
    if tracing_enabled():  # off, the middleware would only make no-op spans
        # the server span wraps everything else (it is added outermost); probes and the UI's
        # static files are not traced, nor each chunk of a streamed answer
        FastAPIInstrumentor.instrument_app(
            app,
            excluded_urls="/healthz,/readyz,/metrics,/chat/assets/,/chat/public/",
            exclude_spans=["receive", "send"],
        )
    if settings.cors_origins:
        # outermost: refusals (401, 413, 429) reach the page with their reason, not as a
        # CORS failure; X-User-Id is not allowed (a page of another site brings a token)
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-API-Key",
                "X-Request-Id",
                "X-Thread-Id",
            ],
            expose_headers=["Retry-After", "X-Request-Id"],
            max_age=600,
        )
    app.include_router(health.router)
    app.include_router(chat.router)
    app.include_router(feedback.router)
    app.include_router(metrics.router)
    app.include_router(documents.router)
    app.include_router(threads.router)
    app.include_router(tools.router)
    app.include_router(openai_compat.router)
    # MCP's streamable HTTP at /mcp itself (a mount would redirect /mcp to /mcp/)
    app.state.mcp = McpEndpoint(assistant, mcp_caller)
    app.router.routes.append(Route("/mcp", app.state.mcp, methods=["GET", "POST", "DELETE"]))
    app.include_router(notifications.router)
    app.include_router(market_routes.router)
    app.include_router(stream.router)
    app.include_router(webhooks.router)
    app.include_router(widget.router)

    @app.exception_handler(AssistantError)
    async def assistant_error(_request: Request, exc: AssistantError) -> JSONResponse:
        log.info("request refused: %s %s", exc.code, exc.message)
        return JSONResponse(
            {"error": exc.body().model_dump()},
            status_code=exc.status,
            headers=getattr(exc, "headers", None),  # WWW-Authenticate, Retry-After
        )

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
