"""Prometheus metrics of this process: per-provider model calls, failures, tokens and cost, and
HTTP requests counted and timed per route and status (api/request_metrics.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from api.deps import AdminCaller
from services.llm.metrics import PROCESS_METRICS, MetricsSnapshot, ProviderCounters

router = APIRouter(tags=["health"])

COUNTERS = {
    name: field.description or name.replace("_", " ")
    for name, field in ProviderCounters.model_fields.items()
}


def render(snapshot: MetricsSnapshot) -> str:
    """The text exposition format, one counter family per field of `ProviderCounters`.

    >>> from services.llm.metrics import ProviderCounters, MetricsSnapshot
    >>> text = render(MetricsSnapshot(providers={"embedded": ProviderCounters(calls=3)}))
    >>> 'trading_assist_llm_calls_total{provider="embedded"} 3' in text
    True
    """
    lines: list[str] = []
    for name, description in COUNTERS.items():
        metric = f"trading_assist_llm_{name}_total"
        lines += [f"# HELP {metric} {description}", f"# TYPE {metric} counter"]
        for provider, counters in snapshot.providers.items():
            lines.append(f'{metric}{{provider="{provider}"}} {getattr(counters, name):g}')
    return "\n".join(lines) + "\n"


@router.get(
    "/metrics", response_class=PlainTextResponse, summary="Model usage and requests, for Prometheus"
)
def metrics(request: Request, _caller: AdminCaller) -> str:
    return render(PROCESS_METRICS.snapshot()) + request.app.state.http_metrics.render()
