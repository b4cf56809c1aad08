"""Rate limits per principal and per route: in memory for one process, and shared through the
real Redis on 127.0.0.1:6379 by two API processes (two uvicorn servers)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from api.main import create_app
from services.db.models import User
from services.llm.scripted import replies
from tests.conftest import copy_var_dir
from tests.integration.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]
REDIS = "redis://127.0.0.1:6379/0"


def _start(port: int, env: dict[str, str], *options: str) -> subprocess.Popen:
    """A server process (tests/integration/serve_scripted.py), once /healthz answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.serve_scripted", str(port), *options],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stderr.read()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise AssertionError("server did not start")


@pytest.fixture
def two_servers(demo_settings, tmp_path):
    env = {
        "VAR_DIR": str(copy_var_dir(demo_settings.var_dir, tmp_path / "var")),
        "REDIS_URL": REDIS,
        "RATE_LIMIT": "5/minute",
        "RATE_LIMIT_NAMESPACE": f"test-{uuid.uuid4().hex[:8]}",
        "LOG_LEVEL": "WARNING",
    }
    ports = [free_port(), free_port()]
    processes = []
    try:
        for port in ports:
            processes.append(_start(port, env))
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


def _admin_id(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(User.id).where(User.role == "admin")).scalars().first()


def test_two_processes_share_the_limit_through_redis(two_servers, demo_engine):
    first, second = two_servers
    answers = [
        httpx.get(f"{(first, second)[i % 2]}/metrics", timeout=10).status_code for i in range(5)
    ]
    refused = httpx.get(f"{second}/metrics", timeout=10)
    refused_too = httpx.get(f"{first}/metrics", timeout=10)
    other_principal = httpx.get(
        f"{first}/metrics", headers={"X-User-Id": str(_admin_id(demo_engine))}, timeout=10
    )
    other_route = httpx.get(f"{second}/v1/documents", timeout=10)
    assert answers == [200] * 5
    assert refused.status_code == 429 and refused_too.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert other_principal.status_code == 200  # per principal
    assert other_route.status_code != 429  # per route


async def test_in_memory_without_redis(make_assistant):
    assistant, model = make_assistant(replies("unused"), rate_limit="2/minute")
    transport = httpx.ASGITransport(app=create_app(assistant))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        statuses = [(await client.get("/metrics")).status_code for _ in range(3)]
        last = await client.get("/metrics")
    assert statuses == [200, 200, 429]
    assert int(last.headers["retry-after"]) >= 1


async def test_chat_has_its_own_tighter_limit(make_assistant):
    assistant, model = make_assistant(replies("unused"), rate_limit_chat="1/minute")
    transport = httpx.ASGITransport(app=create_app(assistant))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        await client.post("/v1/chat", json={"message": "hello"})
        calls = len(model.calls)
        second = await client.post("/v1/chat", json={"message": "hello"})
    assert second.status_code == 429 and len(model.calls) == calls  # refused before running


async def test_repeated_bad_credentials_lock_the_client_out(make_assistant):
    assistant, _ = make_assistant(replies("unused"), rate_limit_auth_failures="3/minute")
    transport = httpx.ASGITransport(app=create_app(assistant))
    guesses = {"X-API-Key": "tak_guess"}
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        statuses = [(await client.get("/metrics", headers=guesses)).status_code for _ in range(4)]
        operator = await client.get("/metrics")  # the same address, now without a guess
    assert statuses == [401, 401, 401, 429]
    assert operator.status_code == 429 and int(operator.headers["retry-after"]) >= 1
