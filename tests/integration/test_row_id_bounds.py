"""An id past what a database column holds (2**63 and up) is invalid input, named in a 422,
wherever it enters: a path, a query, a body, the X-User-Id header, a tool's arguments (REST and
MCP). schemathesis found each of these answering 500 (the driver's OverflowError, or the
checkpoint failing to store a proposed write's arguments); tests/integration/test_openapi_fuzz.py
keeps looking."""

from __future__ import annotations

import httpx
import pytest

from api.main import create_app
from services.auth import dev_tokens
from services.identity import Role
from services.llm.scripted import replies

TOO_BIG = 2**63  # one past the largest SQLite INTEGER / PostgreSQL BIGINT
ADMIN, CUSTOMER = 1, 20


@pytest.fixture
async def client(make_assistant):
    assistant, _ = make_assistant(replies("unused"))
    transport = httpx.ASGITransport(app=create_app(assistant))
    tokens = {
        role: dev_tokens.mint(assistant.settings.var_dir, user, role)
        for role, user in ((Role.ADMIN, ADMIN), (Role.CUSTOMER, CUSTOMER))
    }
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client, tokens


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("DELETE", f"/v1/alerts/{TOO_BIG}", None, "path.alert_id"),
        ("POST", f"/v1/notifications/{TOO_BIG}/read", None, "path.notification_id"),
        ("GET", f"/v1/notifications?user_id={TOO_BIG}", None, "query.user_id"),
        ("GET", f"/v1/notifications/preferences?user_id={TOO_BIG}", None, "query.user_id"),
        (
            "PUT",
            "/v1/notifications/preferences",
            {"user_id": TOO_BIG, "kind": "order_filled", "channel": "email", "enabled": True},
            "user_id",
        ),
        (
            "POST",
            "/v1/notifications",
            {"user_id": TOO_BIG, "subject": "Hi", "body": "Hello", "channel": "in_app"},
            "user_id",
        ),
        ("POST", "/v1/chat/feedback", {"answer_id": TOO_BIG, "helpful": True}, "answer_id"),
        ("POST", "/v1/tools/get_order", {"order_id": TOO_BIG}, "order_id"),
    ],
)
async def test_an_id_too_big_for_the_database_is_invalid(client, method, path, body, field):
    http, tokens = client
    headers = {"Authorization": f"Bearer {tokens[Role.ADMIN]}"}
    response = await http.request(method, path, json=body, headers=headers)
    assert response.status_code == 422, response.text
    message = response.json()["error"]["message"]
    assert field in message and "less than or equal to 9223372036854775807" in message


async def test_a_proposed_write_is_validated_before_it_waits(client):
    """A person's write through /v1/tools waits in a thread for their yes; its arguments are
    checked before that, so one the checkpoint cannot store is refused, not a 500."""
    http, tokens = client
    response = await http.post(
        "/v1/tools/delete_price_alert",
        json={"alert_id": TOO_BIG},
        headers={"Authorization": f"Bearer {tokens[Role.CUSTOMER]}"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_arguments"


async def test_x_user_id_too_big_is_invalid(client):
    http, _ = client
    api = await http.get("/v1/threads", headers={"X-User-Id": str(TOO_BIG)})
    mcp = await http.post(
        "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"X-User-Id": str(TOO_BIG), "Accept": "application/json, text/event-stream"},
    )
    assert api.status_code == 422 and "x-user-id" in api.json()["error"]["message"]
    assert mcp.status_code == 422
    assert mcp.json()["error"]["message"] == "X-User-Id must be a user id (a whole number from 1)"
