"""`/metrics` counts and times the HTTP requests per route template and status, beside the
model counters, in Prometheus' text format (read back with prometheus_client's own parser), on
the demo database with a scripted model."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from api.main import create_app
from tests.conftest import scripted_sql

QUESTION = "How many users are there?"
CUSTOMER = {"X-User-Id": "20"}


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _labels(method: str, route: str, status: int, **extra: str) -> tuple:
    return tuple(sorted({"method": method, "route": route, "status": str(status), **extra}.items()))


async def test_requests_are_counted_and_timed_per_route_and_status(make_assistant):
    assistant, _ = make_assistant(scripted_sql({QUESTION: "SELECT COUNT(*) FROM users"}))
    transport = httpx.ASGITransport(app=create_app(assistant))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        for _ in range(2):
            assert (await client.get("/v1/threads", headers=CUSTOMER)).status_code == 200
        for thread in ("a-1", "b-2"):  # two ids, one series
            assert (await client.get(f"/v1/threads/{thread}", headers=CUSTOMER)).status_code == 404
        assert (await client.get("/no/such/page")).status_code == 404
        refused = await client.post(
            "/v1/chat", json={"message": QUESTION}, headers={"Authorization": "Bearer nonsense"}
        )
        assert refused.status_code == 401
        assert (await client.post("/v1/chat", json={"message": QUESTION})).status_code == 200
        metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    samples = _samples(metrics.text)
    count = "trading_assist_http_requests_total"
    assert samples[(count, _labels("GET", "/v1/threads", 200))] == 2
    assert samples[(count, _labels("GET", "/v1/threads/{thread_id}", 404))] == 2
    assert samples[(count, _labels("GET", "unmatched", 404))] == 1
    assert samples[(count, _labels("POST", "/v1/chat", 401))] == 1
    assert samples[(count, _labels("POST", "/v1/chat", 200))] == 1
    assert not any("a-1" in str(labels) for _, labels in samples)

    latency = "trading_assist_http_request_duration_seconds"
    chat = _labels("POST", "/v1/chat", 200)
    assert samples[(f"{latency}_count", chat)] == 1
    assert samples[(f"{latency}_sum", chat)] > 0
    assert samples[(f"{latency}_bucket", _labels("POST", "/v1/chat", 200, le="+Inf"))] == 1
    # the model counters are still there, beside the requests
    assert any(name == "trading_assist_llm_calls_total" for name, _ in samples)


async def test_each_app_keeps_its_own_counts(make_assistant):
    assistant, _ = make_assistant(scripted_sql({}))
    first, second = create_app(assistant), create_app(assistant)
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url="http://t") as one,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url="http://t") as two,
    ):
        await one.get("/healthz")
        samples = _samples((await two.get("/metrics")).text)
    assert ("trading_assist_http_requests_total", _labels("GET", "/healthz", 200)) not in samples
