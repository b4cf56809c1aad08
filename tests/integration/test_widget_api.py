"""The chat widget's files and the CORS allow-list over HTTP (httpx against the app, real demo
database, scripted model): the script and its demo page are served with the right types and
policy, only CORS_ORIGINS sites pass a browser's preflight, and a page of another site has to
bring a token: in local mode it is never the operator. The widget in a browser is
tests/e2e/test_widget.py."""

from __future__ import annotations

import httpx
import pytest

from api.http_headers import WIDGET_DEMO_CSP
from api.main import create_app
from graphs.assistant import Assistant
from services.auth import dev_tokens
from services.identity import Role
from tests.conftest import scripted_sql

QUESTION = "How many users are there?"
SHOP = "http://shop.example:8080"
CUSTOMER = 20


@pytest.fixture
async def serve(make_assistant):
    clients: list[httpx.AsyncClient] = []

    def build(**overrides) -> tuple[httpx.AsyncClient, Assistant]:
        responder = scripted_sql({QUESTION: "SELECT COUNT(*) AS users FROM users"})
        assistant, _ = make_assistant(responder, **overrides)
        transport = httpx.ASGITransport(app=create_app(assistant))
        client = httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000")
        clients.append(client)
        return client, assistant

    yield build
    for client in clients:
        await client.aclose()


def _preflight(origin: str, headers: str = "authorization,content-type") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": headers,
    }


async def test_the_script_and_its_demo_page_are_served(serve):
    client, _ = serve()
    script = await client.get("/widget.js")
    demo = await client.get("/widget/demo")
    assert script.status_code == 200
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "/v1/chat/stream" in script.text and "/resume" in script.text
    assert ".innerHTML" not in script.text  # answers are drawn as text, never as markup
    assert demo.status_code == 200 and demo.headers["content-type"].startswith("text/html")
    assert '<script src="/widget.js"' in demo.text
    assert "http://127.0.0.1:8000/widget.js" in demo.text  # the snippet names this server
    assert demo.headers["content-security-policy"] == WIDGET_DEMO_CSP
    assert "unsafe-inline" not in WIDGET_DEMO_CSP
    spec = (await client.get("/openapi.json")).json()
    assert not {"/widget.js", "/widget/demo"} & spec["paths"].keys()


async def test_only_listed_origins_pass_the_preflight(serve):
    client, _ = serve(cors_origins=[SHOP])
    listed = await client.options("/v1/chat/stream", headers=_preflight(SHOP))
    other = await client.options("/v1/chat/stream", headers=_preflight("https://evil.example"))
    user_id = await client.options(
        "/v1/chat/stream", headers=_preflight(SHOP, "content-type,x-user-id")
    )
    assert listed.status_code == 200
    assert listed.headers["access-control-allow-origin"] == SHOP
    assert "authorization" in listed.headers["access-control-allow-headers"].lower()
    assert other.status_code == 400 and "access-control-allow-origin" not in other.headers
    # a page of another site cannot claim to be a user by id
    assert (
        user_id.status_code == 400
        and "x-user-id" not in user_id.headers.get("access-control-allow-headers", "").lower()
    )


async def test_no_origin_is_allowed_by_default(serve):
    client, _ = serve()
    preflight = await client.options("/v1/chat/stream", headers=_preflight(SHOP))
    answer = await client.post("/v1/chat", json={"message": QUESTION}, headers={"Origin": SHOP})
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in answer.headers


async def test_a_page_of_another_site_must_bring_a_token(serve):
    client, assistant = serve(cors_origins=[SHOP])
    ask = {"message": QUESTION}
    anonymous = await client.post("/v1/chat/stream", json=ask, headers={"Origin": SHOP})
    claimed = await client.post(
        "/v1/chat", json=ask, headers={"Origin": SHOP, "X-User-Id": str(CUSTOMER)}
    )
    own_page = await client.post("/v1/chat", json=ask, headers={"Origin": "http://127.0.0.1:8000"})
    token = dev_tokens.mint(assistant.settings.var_dir, CUSTOMER, Role.CUSTOMER)
    signed_in = await client.post(
        "/v1/chat", json=ask, headers={"Origin": SHOP, "Authorization": f"Bearer {token}"}
    )
    for refused in (anonymous, claimed):
        assert refused.status_code == 401
        assert refused.json()["error"]["message"] == (
            "sign in: a page of another site must send Authorization: Bearer <token>"
        )
        # the page can read why: the refusal carries the CORS headers too
        assert refused.headers["access-control-allow-origin"] == SHOP
    assert own_page.status_code == 200  # the server's own page (the demo) is the operator's
    assert own_page.json()["rows"] != [[1]]
    assert signed_in.status_code == 200
    assert signed_in.json()["rows"] == [[1]]  # the customer sees their own user row only
    assert signed_in.headers["access-control-allow-origin"] == SHOP
    assert "x-request-id" in signed_in.headers["access-control-expose-headers"].lower()
