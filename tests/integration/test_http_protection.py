"""What guards the HTTP surface before any route runs: body limits enforced while reading (on
a real server's socket), security headers, the request id in responses and log lines, and
/readyz naming what is not ready yet."""

from __future__ import annotations

import doctest
import io
import json
import logging
import re
import select
import socket
import threading
import time

import httpx
import pytest

import api.http_headers
import cli.server
from api.http_headers import API_CSP, UI_CSP
from api.main import create_app
from services.llm.scripted import replies
from services.logs import JsonFormatter, RequestIdFilter
from tests.conftest import scripted_sql
from tests.integration.live_server import get, live_server

QUESTION = "How many users are there?"
GIGABYTE = 1024**3


def test_doc_examples_of_the_http_modules():
    for module in (api.http_headers, cli.server):
        assert doctest.testmod(module).failed == 0


@pytest.fixture
def small_limits(make_assistant):
    assistant, model = make_assistant(
        scripted_sql({QUESTION: "SELECT COUNT(*) AS users FROM users"}),
        max_body_bytes=4096,
    )
    return create_app(assistant), model


def _http(host: str, port: int, head: str) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=10)
    sock.sendall(head.encode())
    return sock


def _status(sock: socket.socket) -> int:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1])


def _target(base: str) -> tuple[str, int]:
    host, port = base.removeprefix("http://").split(":")
    return host, int(port)


def test_a_declared_gigabyte_is_refused_before_it_is_sent(small_limits):
    app, model = small_limits
    with live_server(app) as base:
        host, port = _target(base)
        started = time.monotonic()
        sock = _http(
            host,
            port,
            f"POST /v1/chat HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {GIGABYTE}\r\n\r\n" + '{"message": "',
        )
        with sock:
            status = _status(sock)
        took = time.monotonic() - started
    assert status == 413 and took < 5
    assert model.calls == []


def test_an_undeclared_body_is_counted_and_cut_off(small_limits, caplog):
    app, model = small_limits
    caplog.set_level(logging.INFO, logger="api.body_limit")
    with live_server(app) as base:
        host, port = _target(base)
        sock = _http(
            host,
            port,
            f"POST /v1/chat HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n",
        )
        chunk = b"x" * 1024
        sent = 0
        with sock:
            while sent < GIGABYTE:  # a gigabyte, unless the server answers first
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                try:
                    sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += len(chunk)
            status = _status(sock)
    assert status == 413
    # refused in the first message past the 4 KiB limit (uvicorn hands the body over in reads
    # of up to about 64 KiB); the client got ahead only by what the socket buffers hold
    (refusal,) = [r.getMessage() for r in caplog.records if "body refused" in r.getMessage()]
    read = int(re.search(r"over (\d+)", refusal).group(1))
    assert 4096 < read <= 256 * 1024
    assert sent < 64 * 1024 * 1024
    assert model.calls == []


async def test_bodies_within_the_limit_are_answered(small_limits):
    app, _ = small_limits
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        fine = await client.post("/v1/chat", json={"message": QUESTION})
        big = await client.post("/v1/chat", json={"message": "x" * 5000})
    assert fine.status_code == 200
    assert big.status_code == 413 and big.json()["error"]["code"] == "body_too_large"
    assert big.headers["x-request-id"]  # refusals carry the headers too


async def test_security_headers_and_request_id(make_assistant):
    assistant, _ = make_assistant(replies("unused"))
    transport = httpx.ASGITransport(app=create_app(assistant))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        plain = await client.get("/healthz", headers={"X-Request-Id": "req-42.a:b"})
        proxied = await client.get(
            "/healthz", headers={"X-Forwarded-Proto": "https", "X-Request-Id": "bad id <x>"}
        )
        refused = await client.get("/metrics", headers={"X-User-Id": "20"})
    assert plain.headers["x-request-id"] == "req-42.a:b"
    assert re.fullmatch(r"[0-9a-f]{32}", proxied.headers["x-request-id"])
    assert re.fullmatch(r"[0-9a-f]{32}", refused.headers["x-request-id"])
    for response in (plain, proxied, refused):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["content-security-policy"] == API_CSP
    assert "strict-transport-security" not in plain.headers
    assert proxied.headers["strict-transport-security"].startswith("max-age=31536000")
    assert "frame-ancestors 'none'" in UI_CSP


async def test_log_lines_carry_the_request_id_as_json(make_assistant):
    assistant, _ = make_assistant(replies("unused"))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("api.main")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        transport = httpx.ASGITransport(app=create_app(assistant))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            await client.post(
                "/v1/chat",
                json={"message": QUESTION},
                headers={"X-User-Id": "424242", "X-Request-Id": "trace-7"},
            )
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert any(
        line["request_id"] == "trace-7" and "unknown_user" in line["message"] for line in lines
    )


def test_readyz_is_503_until_the_model_is_warm(make_assistant):
    warm = threading.Event()

    def slow_warm_up(_messages, _kwargs):
        warm.wait(30)
        return "ok"

    assistant, _ = make_assistant(slow_warm_up)
    with live_server(create_app(assistant, warm_up=True)) as base:
        cold = get(f"{base}/readyz")
        health = get(f"{base}/healthz")
        warm.set()
        deadline = time.monotonic() + 20
        while (ready := get(f"{base}/readyz")).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
    assert cold.status_code == 503
    assert cold.json() == {
        "ready": False,
        "parts": {"database": "ok", "replica": "ok", "model": "warming up"},
    }
    assert health.status_code == 200  # the process is up all along
    assert ready.status_code == 200 and ready.json()["ready"] is True


async def test_readyz_names_a_backing_service_that_does_not_answer(make_assistant):
    assistant, _ = make_assistant(replies("unused"), redis_url="redis://127.0.0.1:1/0")
    transport = httpx.ASGITransport(app=create_app(assistant))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    parts = response.json()["parts"]
    assert parts["database"] == "ok" and parts["redis"].startswith("not answering")
