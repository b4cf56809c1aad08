"""OpenTelemetry traces of the served API with a scripted model on the demo database, collected
by the SDK's in-memory exporter: one chat turn is a request span holding the graph's steps,
the model calls under the SQL agent's step and the SQL it ran, each with the request id; a
tool call is a span of its own. Then a real server process with OTEL_TRACES_EXPORTER=otlp
sends its spans to a local receiver speaking OTLP over HTTP, and with
OTEL_TRACES_EXPORTER=azure_monitor to one speaking Application Insights' ingestion API; `doctor`
asks either receiver."""

from __future__ import annotations

import gzip
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import ValidationError

from api.main import create_app
from cli.doctor import _traces
from services import telemetry
from tests.conftest import copy_var_dir, make_settings, scripted_sql
from tests.integration.live_server import free_port
from tests.integration.test_rate_limits import _start

QUESTION = "How many open orders do I have?"
SQL = "SELECT COUNT(*) AS open_orders FROM orders WHERE status IN ('open', 'partially_filled')"
CUSTOMER = 20
OTLP = {"otel_traces_exporter": "otlp"}


@pytest.fixture(scope="module")
def exported() -> InMemorySpanExporter:
    """The process's tracer provider (made here if no test made it first) writing to memory."""
    exporter = InMemorySpanExporter()
    telemetry.provider().add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def spans(exported):
    exported.clear()
    return exported


def _parents(spans: tuple[ReadableSpan, ...]) -> dict[str, str]:
    """Each span's name -> its parent's name (the first of a name wins)."""
    by_id = {s.context.span_id: s for s in spans}
    parents: dict[str, str] = {}
    for s in spans:
        if s.parent is not None and s.parent.span_id in by_id:
            parents.setdefault(s.name, by_id[s.parent.span_id].name)
    return parents


async def test_one_chat_turn_is_one_trace_of_nested_steps(make_assistant, spans):
    assistant, _ = make_assistant(scripted_sql({QUESTION: SQL}))
    transport = httpx.ASGITransport(app=create_app(assistant))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        response = await client.post(
            "/v1/chat", json={"message": QUESTION}, headers={"X-User-Id": str(CUSTOMER)}
        )
    assert response.status_code == 200
    finished = spans.get_finished_spans()
    names = [s.name for s in finished]
    parents = _parents(finished)
    server = next(s for s in finished if s.name == "POST /v1/chat")

    assert len({s.context.trace_id for s in finished}) == 1  # one trace
    assert server.attributes["http.route"] == "/v1/chat"
    assert server.attributes["enduser.id"] == str(CUSTOMER)
    assert server.attributes["enduser.role"] == "customer"
    for step in ("supervisor", "dispatch", "sql_agent", "finish"):
        assert parents[f"graph.node {step}"] == "POST /v1/chat", step
    model_calls = [s for s in finished if s.name.startswith("chat ")]
    assert model_calls and all(
        s.attributes["gen_ai.provider.name"] and s.attributes["gen_ai.request.model"]
        for s in model_calls
    )
    assert parents[model_calls[0].name] == "graph.node sql_agent"
    sql = next(s for s in finished if s.name == "sql.execute")
    assert parents["sql.execute"] == "graph.node sql_agent"
    assert sql.attributes["db.response.returned_rows"] == 1
    assert sql.attributes["db.system.name"] == "sqlite"
    rid = response.headers["x-request-id"]
    assert all(s.attributes.get("http.request.id") == rid for s in finished), names
    # nothing of the question, the SQL or the rows in any attribute
    values = " ".join(str(v) for s in finished for v in s.attributes.values())
    assert "open_orders" not in values and "How many" not in values


async def test_a_tool_call_is_a_span_under_its_request(make_assistant, spans):
    assistant, _ = make_assistant(scripted_sql({}))
    transport = httpx.ASGITransport(app=create_app(assistant))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        quote = await client.post(
            "/v1/tools/get_quote", json={"symbol": "AAPL"}, headers={"X-User-Id": str(CUSTOMER)}
        )
        unknown = await client.post(
            "/v1/tools/get_quote", json={"symbol": "NOPE"}, headers={"X-User-Id": str(CUSTOMER)}
        )
    finished = spans.get_finished_spans()
    tools = [s for s in finished if s.name == "execute_tool get_quote"]
    assert quote.status_code == 200 and unknown.status_code >= 400
    assert len(tools) == 2 and all(s.attributes["gen_ai.tool.name"] == "get_quote" for s in tools)
    assert _parents(finished)["execute_tool get_quote"] == "POST /v1/tools/{name}"
    assert tools[0].status.is_ok and not tools[1].status.is_ok
    assert tools[1].attributes["error.type"]


class _Receiver:
    """A local HTTP endpoint taking exported spans: `decode` turns a request body into (name,
    attributes) pairs and the answer to send, or None for a path the protocol does not have."""

    def __init__(self, decode) -> None:
        self.spans: list[tuple[str, dict]] = []
        received = self.spans

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                decoded = decode(self.path, body)
                if decoded is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                spans, content_type, answer = decoded
                received.extend(spans)
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _otlp(path: str, body: bytes):
    """OTLP/HTTP: a protobuf ExportTraceServiceRequest posted to /v1/traces."""
    if path != "/v1/traces":
        return None
    spans = [
        (span.name, {a.key: a.value.string_value for a in span.attributes})
        for resource in ExportTraceServiceRequest.FromString(body).resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    return spans, "application/x-protobuf", b""


def _application_insights(path: str, body: bytes):
    """Application Insights' ingestion API: a JSON array of telemetry envelopes posted to
    /v2.1/track, answered with how many items were accepted."""
    if not path.endswith("/track"):
        return None
    envelopes = json.loads(body)
    spans = [
        (
            e["data"]["baseData"]["name"],
            {**e["data"]["baseData"].get("properties", {}), **e["data"]["baseData"]},
        )
        for e in envelopes
        if e["data"]["baseType"] in ("RequestData", "RemoteDependencyData")
    ]
    answer = {"itemsReceived": len(envelopes), "itemsAccepted": len(envelopes), "errors": []}
    return spans, "application/json", json.dumps(answer).encode()


def _spans_of_one_request(receiver: _Receiver, env: dict[str, str]) -> int:
    """A server started with `env` serves one request with a request id; its spans are awaited
    at `receiver`. The request's status code."""
    port = free_port()
    process = _start(port, env)
    try:
        response = httpx.get(
            f"http://127.0.0.1:{port}/v1/threads", headers={"X-Request-Id": "export-1"}, timeout=30
        )
        deadline = time.monotonic() + 30  # the batch processor sends every 5 s
        while not receiver.spans and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=30)
        receiver.close()
    return response.status_code


def test_a_server_sends_its_spans_over_otlp(demo_settings, tmp_path):
    receiver = _Receiver(_otlp)
    env = {
        "VAR_DIR": str(copy_var_dir(demo_settings.var_dir, tmp_path / "var")),
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        "OTEL_SERVICE_NAME": "trading-assist-test",
    }
    assert _spans_of_one_request(receiver, env) == 200
    assert ("GET /v1/threads", "export-1") in [
        (name, attributes.get("http.request.id")) for name, attributes in receiver.spans
    ]


def test_a_server_sends_its_spans_to_azure_monitor(demo_settings, tmp_path):
    receiver = _Receiver(_application_insights)
    env = {
        "VAR_DIR": str(copy_var_dir(demo_settings.var_dir, tmp_path / "var")),
        "OTEL_TRACES_EXPORTER": "azure_monitor",
        "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey="
        f"00000000-0000-0000-0000-000000000000;IngestionEndpoint={receiver.url}/",
        "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",  # no calls home from a test
    }
    assert _spans_of_one_request(receiver, env) == 200
    # Application Insights keeps HTTP attributes in its own fields, not as properties
    assert ("GET /v1/threads", "200") in [
        (name, attributes.get("responseCode")) for name, attributes in receiver.spans
    ]


def test_azure_monitor_needs_its_connection_string(tmp_path):
    with pytest.raises(ValidationError, match="APPLICATIONINSIGHTS_CONNECTION_STRING"):
        make_settings(tmp_path, otel_traces_exporter="azure_monitor")


def test_doctor_asks_the_collector_only_when_traces_go_to_one(tmp_path):
    receiver = _Receiver(_otlp)
    try:
        reachable = _traces(
            make_settings(tmp_path, **{**OTLP, "otel_exporter_otlp_endpoint": receiver.url})
        )
    finally:
        receiver.close()
    gone = _traces(make_settings(tmp_path, **{**OTLP, "otel_exporter_otlp_endpoint": receiver.url}))
    assert _traces(make_settings(tmp_path)) == []  # off: doctor does not mention it
    assert [(c.configured, c.ok) for c in reachable] == [(f"otlp {receiver.url}/v1/traces", True)]
    assert [c.ok for c in gone] == [False]


def test_doctor_reaches_the_azure_monitor_ingestion_endpoint(tmp_path):
    receiver = _Receiver(_application_insights)
    connection = f"InstrumentationKey=k;IngestionEndpoint={receiver.url}/"
    settings = make_settings(
        tmp_path,
        otel_traces_exporter="azure_monitor",
        applicationinsights_connection_string=connection,
    )
    try:
        reachable = _traces(settings)
    finally:
        receiver.close()
    assert [(c.configured, c.ok) for c in reachable] == [(f"azure monitor {receiver.url}", True)]
    assert [c.ok for c in _traces(settings)] == [False]
    assert "InstrumentationKey" not in str(reachable)  # the key stays out of the report
