"""Security headers and a request id on every response, whatever produced it.

A pure ASGI middleware (not `@app.middleware("http")`, which buffers streamed answers): it
edits the `http.response.start` message only. The request id is the client's `X-Request-Id`
when it looks like an id (at most 128 letters, digits and `._:-`), a new one otherwise; it is
set in `services.logs.request_id` for the request's duration, so every log line names it, and
every span of its trace (services/telemetry.py).
"""

from __future__ import annotations

import re
import uuid

from opentelemetry import trace
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.logs import request_id
from services.telemetry import REQUEST_ID

SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# The API answers JSON: nothing may load from it, nothing may frame it.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# The Chainlit UI: its page has an inline bootstrap script, React sets inline styles, KaTeX's
# stylesheet and fonts come from jsDelivr, its socket talks to the same host; everything else
# comes from /chat itself (checked in a browser: tests/e2e/test_ui_csp.py).
UI_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: blob:; font-src 'self' data: https://cdn.jsdelivr.net; "
    "connect-src 'self' ws: wss:; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'"
)
# FastAPI's /docs and /redoc load Swagger UI and ReDoc from jsDelivr.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "worker-src 'self' blob:; frame-ancestors 'none'"
)
# The widget's demo page: its one script is /widget.js from here, which calls this API; the
# widget styles itself with a constructed stylesheet, so no inline script or style is needed
# (checked in a browser: tests/e2e/test_widget.py).
WIDGET_DEMO_CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def csp_for(path: str) -> str:
    """The policy for a path: the UI's, the API docs', the widget demo's, or the API's (the
    strictest; a script such as /widget.js runs under its host page's policy, not this one).

    >>> csp_for("/v1/chat") == API_CSP, csp_for("/chat/assets/a.js") == UI_CSP
    (True, True)
    """
    if path == "/chat" or path.startswith("/chat/"):
        return UI_CSP
    if path == "/widget/demo":
        return WIDGET_DEMO_CSP
    if path in ("/docs", "/redoc") or path.startswith("/docs/"):
        return DOCS_CSP
    return API_CSP


def over_tls(scope: Scope, headers: Headers) -> bool:
    """TLS here, or at the proxy in front (X-Forwarded-Proto: https)."""
    forwarded = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return scope.get("scheme") == "https" or forwarded == "https"


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        given = headers.get("x-request-id", "")
        rid = given if SANE_ID.match(given) else uuid.uuid4().hex
        tls = over_tls(scope, headers)
        csp = csp_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out["X-Request-Id"] = rid
                out["X-Content-Type-Options"] = "nosniff"
                out["X-Frame-Options"] = "DENY"
                out["Referrer-Policy"] = "no-referrer"
                out.setdefault("Content-Security-Policy", csp)
                if tls:
                    out["Strict-Transport-Security"] = HSTS
            await send(message)

        token = request_id.set(rid)
        trace.get_current_span().set_attribute(REQUEST_ID, rid)  # the request's own span
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            request_id.reset(token)
