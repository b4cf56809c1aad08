"""Requests counted and timed per route and status, for `/metrics` (Prometheus).

A pure ASGI middleware (it never buffers a streamed answer); a request's time runs until its
last byte was handed to the server, so a streamed chat answer counts whole. The route label is
the route's template (`/v1/threads/{thread_id}`), never the path itself, so ids do not
multiply the series; a path no route matched is `unmatched`. Each app keeps its own registry
(prometheus_client), so two apps in one process never mix their counts.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LABELS = ("method", "route", "status")
# from a cached probe (about a millisecond) to a first answer of the local model (a minute)
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class HttpMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "trading_assist_http_requests",
            "HTTP requests answered, by method, route and status.",
            LABELS,
            registry=self.registry,
        )
        self.latency = Histogram(
            "trading_assist_http_request_duration_seconds",
            "Time from a request's arrival to its last byte, by method, route and status.",
            LABELS,
            buckets=BUCKETS,
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def render(self) -> str:
        return generate_latest(self.registry).decode()


def route_of(scope: Scope) -> str:
    """The matched route's template, under the path it is mounted at (the chat UI's /chat)."""
    route = scope.get("route")
    if route is not None:
        return scope.get("root_path", "") + getattr(route, "path", "")
    if "endpoint" in scope:  # a plain Starlette route (/mcp), which has no template to give
        return scope["path"]
    return "unmatched"


class RequestMetrics:
    def __init__(self, app: ASGIApp, metrics: HttpMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app fails before it starts a response

        async def send_counting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counting)
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.observe(scope["method"], route_of(scope), status, elapsed)
