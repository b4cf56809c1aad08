"""Dependencies shared by the routes: the assistant, the caller, and the checks every route
makes before it runs (role, scope, rate limit).

A route names what it needs in its signature, e.g. `caller: Annotated[Caller,
requires(Scope.CHAT)]`; FastAPI then authenticates (401 with WWW-Authenticate), checks the
scope and the roles (403) and counts the request (429), all before the route's body runs.
`/v1/tools`, MCP and the OpenAI-compatible endpoint take their caller the same way.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from fastapi import Depends, Header, Request, WebSocket
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers

from api.rate_limit import RateLimiter
from graphs.assistant import Assistant
from retrieval.library import DocumentLibrary
from services.auth.authenticator import Authenticator
from services.auth.errors import AuthError
from services.errors import AssistantError
from services.identity import Caller, Role, Scope
from services.ids import RowId
from services.market.service import MarketData
from services.notifications.service import NotificationService
from services.telemetry import mark_caller


def get_assistant(request: Request) -> Assistant:
    return request.app.state.assistant


AssistantDep = Annotated[Assistant, Depends(get_assistant)]


async def get_caller(
    request: Request,
    authorization: Annotated[
        str | None,
        Header(description="Bearer <token>: an Entra ID or development token, or an API key."),
    ] = None,
    x_api_key: Annotated[str | None, Header(description="An API key (tak_...).")] = None,
    x_user_id: Annotated[
        RowId | None, Header(description="Local auth mode only: the acting user's id.")
    ] = None,
) -> Caller:
    """Who is asking (see services.auth.authenticator for each mode's rules). Authentication
    runs in a worker thread (it may read the database or fetch signing keys); a client whose
    credentials were refused too often is refused before it is tried again."""
    authenticator: Authenticator = request.app.state.authenticator
    limiter: RateLimiter = request.app.state.rate_limiter
    client = request.client.host if request.client else "unknown"
    await limiter.check_client(client)
    try:
        caller = await run_in_threadpool(
            authenticator.authenticate,
            authorization,
            x_api_key,
            x_user_id,
            foreign_origin=foreign_origin(request.headers),
        )
    except AuthError as exc:
        if exc.status == 401:
            await limiter.failed(client)
        raise
    mark_caller(caller.user_id, caller.role)
    return caller


def foreign_origin(headers: Headers) -> bool:
    """Did a browser send this from a page of another site? It names the page's origin in
    `Origin` (on cross-site requests, same-site POSTs and every WebSocket handshake); `null`
    (a sandboxed frame, a file) is foreign too.

    >>> foreign_origin(Headers({"host": "127.0.0.1:8000", "origin": "http://127.0.0.1:8000"}))
    False
    >>> foreign_origin(Headers({"host": "127.0.0.1:8000", "origin": "https://shop.example"}))
    True
    """
    origin = headers.get("origin")
    return origin is not None and urlsplit(origin).netloc != headers.get("host")


CallerDep = Annotated[Caller, Depends(get_caller)]
_ROW_ID = TypeAdapter(RowId)


async def mcp_caller(request: Request) -> Caller:
    """The caller of an MCP request (`/mcp` is an ASGI app of its own, outside FastAPI's
    dependencies): the same credentials and refusal budget, the tools:read scope, and the
    route's rate limit."""
    headers = request.headers
    user_id = headers.get("x-user-id")
    try:
        user = None if user_id is None else _ROW_ID.validate_strings(user_id)
    except ValidationError:
        raise AssistantError(
            "invalid_request", "X-User-Id must be a user id (a whole number from 1)"
        ) from None
    caller = await get_caller(request, headers.get("authorization"), headers.get("x-api-key"), user)
    if not caller.allows(Scope.TOOLS_READ):
        raise AuthError("forbidden", "this credential does not hold the tools:read scope")
    limiter: RateLimiter = request.app.state.rate_limiter
    await limiter.hit(caller, "POST /mcp", "default")
    return caller


def get_market(request: Request) -> MarketData:
    return request.app.state.market


MarketDep = Annotated[MarketData, Depends(get_market)]


def socket_caller(websocket: WebSocket, x_user_id: int | None) -> Caller:
    """`get_caller` for a WebSocket: the same credentials, read from the handshake headers
    (a browser cannot set headers on a WebSocket, so a bearer token may also come as the
    `access_token` query parameter); the caller must hold the tools:read scope."""
    authenticator: Authenticator = websocket.app.state.authenticator
    headers = websocket.headers
    token = websocket.query_params.get("access_token")
    authorization = headers.get("authorization") or (f"Bearer {token}" if token else None)
    caller = authenticator.authenticate(
        authorization, headers.get("x-api-key"), x_user_id, foreign_origin=foreign_origin(headers)
    )
    if not caller.allows(Scope.TOOLS_READ):
        raise AuthError("forbidden", "this credential does not hold the tools:read scope")
    return caller


def requires(scope: Scope, *roles: Role, limit: Literal["default", "chat"] = "default"):
    """A dependency giving the caller once it may use this route: it holds `scope`, has one of
    `roles` (any role when none are named), and has requests left under the route's limit."""

    async def check(request: Request, caller: CallerDep) -> Caller:
        if not caller.allows(scope):
            raise AuthError("forbidden", f"this credential does not hold the {scope} scope")
        if roles and caller.role not in roles:
            raise AuthError("forbidden", f"the {caller.role} role may not use this route")
        limiter: RateLimiter = request.app.state.rate_limiter
        route = getattr(request.scope.get("route"), "path", request.url.path)
        await limiter.hit(caller, f"{request.method} {route}", limit)
        return caller

    check.scope = scope  # read by the test that every route is guarded
    return Depends(check)


ChatCaller = Annotated[Caller, requires(Scope.CHAT, limit="chat")]
DocumentReader = Annotated[Caller, requires(Scope.DOCUMENTS_READ)]
DocumentWriter = Annotated[Caller, requires(Scope.DOCUMENTS_WRITE)]
AdminCaller = Annotated[Caller, requires(Scope.ADMIN, Role.ADMIN, Role.SERVICE)]
StaffCaller = Annotated[Caller, requires(Scope.CHAT, Role.SUPPORT, Role.ADMIN)]
ToolReader = Annotated[Caller, requires(Scope.TOOLS_READ)]
ToolWriter = Annotated[Caller, requires(Scope.TOOLS_WRITE)]


def get_documents(request: Request) -> DocumentLibrary:
    library = request.app.state.documents
    if library is None:
        raise AssistantError("documents_unavailable", "no document library is set up here")
    return library


DocumentsDep = Annotated[DocumentLibrary, Depends(get_documents)]


def get_notifications(request: Request) -> NotificationService:
    return request.app.state.notifications


NotificationsDep = Annotated[NotificationService, Depends(get_notifications)]
