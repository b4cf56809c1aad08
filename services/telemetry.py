"""OpenTelemetry traces: one span per HTTP request (api/main.py), graph step, model call, SQL
statement and tool call, nested as they ran, each carrying the request id.

OTEL_TRACES_EXPORTER picks where they go: `none` (the default: no HTTP instrumentation at all,
and the API's no-op tracer for the rest, nearly free), `console` (one JSON object per span on
standard output), `otlp` (OTLP over HTTP to OTEL_EXPORTER_OTLP_ENDPOINT, e.g. an
OpenTelemetry Collector or Jaeger) or `azure_monitor` (Application Insights, through
Microsoft's exporter and APPLICATIONINSIGHTS_CONNECTION_STRING; the exporter rather than the
`azure-monitor-opentelemetry` distro, which would install a provider and instrumentations of
its own beside these). Spans name the user
by id and role only, never by name or email, and carry no SQL text or prompt (either may hold
personal data). Attribute names follow OpenTelemetry's semantic conventions where one exists
(`gen_ai.*` for model and tool calls, `db.*` for SQL, `enduser.*` for the caller).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from services.logs import request_id
from services.settings import Settings, TracesExporter

log = logging.getLogger(__name__)

REQUEST_ID = "http.request.id"  # X-Request-Id, on every span of the request
USER_ID = "enduser.id"  # the platform's user id (a number, not personal data)
USER_ROLE = "enduser.role"

tracer = trace.get_tracer("trading_assist")


class RequestIdSpans(SpanProcessor):
    """Stamps every span started during a request with its request id."""

    def on_start(self, span: Span, parent_context: Any = None) -> None:
        rid = request_id.get()
        if rid != "-":
            span.set_attribute(REQUEST_ID, rid)

    def on_end(self, span: ReadableSpan) -> None:
        pass


AZURE_INGESTION = "https://dc.services.visualstudio.com"  # when the connection string names none
_exporting: set[tuple[str, str]] = set()  # (exporter, endpoint) already added to the provider


def provider(service_name: str = "trading-assist") -> TracerProvider:
    """The process's SDK tracer provider, installed as the global one on first use."""
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    made = TracerProvider(resource=Resource.create({"service.name": service_name}))
    made.add_span_processor(RequestIdSpans())
    trace.set_tracer_provider(made)
    return made


def tracing_enabled() -> bool:
    """Whether spans go anywhere: an SDK provider is installed (by `configure_tracing`, or by
    a test collecting spans in memory)."""
    return isinstance(trace.get_tracer_provider(), TracerProvider)


def configure_tracing(settings: Settings) -> None:
    """Send the process's spans where the settings say; once per destination, however often
    an app is built in this process."""
    exporter = settings.otel_traces_exporter
    destination = (exporter, _destination(settings))
    if exporter is TracesExporter.NONE or destination in _exporting:
        return
    provider(settings.otel_service_name).add_span_processor(BatchSpanProcessor(_exporter(settings)))
    _exporting.add(destination)
    log.info("traces go to %s %s", exporter, destination[1])


def _destination(settings: Settings) -> str:
    """Where spans are sent, for the log and to add each destination once; no secret in it."""
    if settings.otel_traces_exporter is TracesExporter.OTLP:
        return otlp_traces_url(settings.otel_exporter_otlp_endpoint)
    if settings.otel_traces_exporter is TracesExporter.AZURE_MONITOR:
        return azure_ingestion_endpoint(settings)
    return "standard output"


def _exporter(settings: Settings) -> SpanExporter:
    if settings.otel_traces_exporter is TracesExporter.CONSOLE:
        return ConsoleSpanExporter()
    if settings.otel_traces_exporter is TracesExporter.AZURE_MONITOR:
        from azure.monitor.opentelemetry.exporter import AzureMonitorTraceExporter

        secret = settings.applicationinsights_connection_string
        return AzureMonitorTraceExporter(connection_string=secret.get_secret_value())
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=otlp_traces_url(settings.otel_exporter_otlp_endpoint))


def azure_ingestion_endpoint(settings: Settings) -> str:
    """The ingestion endpoint an Application Insights connection string names (the key it
    also holds stays out of logs); Azure's public one when it names none.

    >>> s = Settings(_env_file=None, otel_traces_exporter="azure_monitor",
    ...     applicationinsights_connection_string="InstrumentationKey=k;"
    ...     "IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/")
    >>> azure_ingestion_endpoint(s)
    'https://westeurope-5.in.applicationinsights.azure.com'
    """
    secret = settings.applicationinsights_connection_string
    parts = dict(
        part.split("=", 1)
        for part in (secret.get_secret_value() if secret else "").split(";")
        if "=" in part
    )
    return parts.get("IngestionEndpoint", AZURE_INGESTION).rstrip("/")


def otlp_traces_url(endpoint: str | None) -> str:
    """The collector's base URL (default OTLP/HTTP's, localhost:4318) with the traces path.

    >>> otlp_traces_url("http://collector:4318"), otlp_traces_url("http://c:4318/v1/traces")
    ('http://collector:4318/v1/traces', 'http://c:4318/v1/traces')
    >>> otlp_traces_url(None)
    'http://localhost:4318/v1/traces'
    """
    endpoint = (endpoint or "http://localhost:4318").rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else f"{endpoint}/v1/traces"


@contextmanager
def span(
    name: str,
    attributes: Mapping[str, Any] | None = None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    current: bool = True,
    benign: tuple[type[BaseException], ...] = (),
) -> Iterator[trace.Span]:
    """A span around a block: an exception marks it failed (with the exception's type, not
    its message, which may quote data), except `benign` ones, which are control flow (a
    graph's interrupt). `current=False` for a block that yields to its caller (a stream), so
    no context is left attached across the yields.

    >>> with span("demo", {"tool": "x"}) as outer:
    ...     trace.get_current_span() is outer
    True
    """
    started = tracer.start_span(name, kind=kind, attributes=attributes)
    try:
        if current:
            with trace.use_span(started, record_exception=False, set_status_on_exception=False):
                yield started
        else:
            yield started
    except benign:
        raise
    except Exception as exc:
        started.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        started.set_attribute("error.type", type(exc).__qualname__)
        raise
    finally:
        started.end()


def mark_caller(user_id: int | None, role: str) -> None:
    """Name the caller on the current span (the HTTP request's, once authenticated)."""
    current = trace.get_current_span()
    if user_id is not None:
        current.set_attribute(USER_ID, str(user_id))
    current.set_attribute(USER_ROLE, role)
