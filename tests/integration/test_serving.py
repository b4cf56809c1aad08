"""How `trading-assist run` serves: the URLs printed once /readyz answers 200, not before;
in entra mode the chat UI signs people in with the tenant's tokens, as the API does."""

from __future__ import annotations

import io
import threading
import time

import httpx
import uvicorn
from rich.console import Console
from sqlalchemy import select

from api.main import create_app
from cli.server import announce_when_ready
from services.db.engines import make_engine
from services.db.models import User
from services.llm.scripted import replies
from tests.conftest import copy_var_dir
from tests.integration import jwks
from tests.integration.live_server import free_port, live_server
from tests.integration.test_rate_limits import _start


def test_urls_are_printed_once_ready(make_assistant):
    warm = threading.Event()

    def slow_warm_up(_messages, _kwargs):
        warm.wait(30)
        return "ok"

    assistant, _ = make_assistant(slow_warm_up)
    with live_server(create_app(assistant, warm_up=True)) as base:
        port = int(base.rsplit(":", 1)[1])
        settings = assistant.settings.model_copy(update={"port": port})
        out = io.StringIO()
        server = uvicorn.Server(uvicorn.Config(None))  # only its should_exit flag is read
        thread = announce_when_ready(server, settings, "scripted", Console(file=out))
        time.sleep(1.5)
        before = out.getvalue()
        warm.set()
        thread.join(timeout=20)
    assert before == ""  # not while the model warms up
    printed = out.getvalue()
    assert "is ready" in printed and f"{base}/chat" in printed and f"{base}/docs" in printed


def test_stopping_before_ready_prints_nothing(make_assistant):
    assistant, _ = make_assistant(replies("unused"))
    settings = assistant.settings.model_copy(update={"port": 9})  # nothing listens there
    out = io.StringIO()
    server = uvicorn.Server(uvicorn.Config(None))
    thread = announce_when_ready(server, settings, "scripted", Console(file=out))
    time.sleep(0.7)
    server.should_exit = True
    thread.join(timeout=10)
    assert not thread.is_alive() and out.getvalue() == ""


def test_entra_mode_signs_the_chat_ui_in_with_the_tenants_tokens(demo_settings, tmp_path):
    """In a server process of its own: Chainlit can be mounted once per process."""
    var_dir = copy_var_dir(demo_settings.var_dir, tmp_path / "var")
    key = jwks.SigningKey("tenant-key")
    person = jwks.sign(key, jwks.claims(roles=["Support"]))
    application = jwks.sign(key, jwks.claims(roles=["Service"], scp=None))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with jwks.JwksServer([key]) as tenant:
        env = {
            "VAR_DIR": str(var_dir),
            "AUTH_MODE": "entra",
            "ENTRA_TENANT_ID": jwks.TENANT,
            "ENTRA_AUDIENCE": jwks.AUDIENCE,
            "ENTRA_ISSUER": jwks.ISSUER,
            "ENTRA_JWKS_URL": tenant.url,
        }
        process = _start(port, env, "--ui")
        try:

            def header_sign_in(token: str | None) -> httpx.Response:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                return httpx.post(f"{base}/chat/auth/header", headers=headers, timeout=30)

            ui = httpx.get(f"{base}/chat", timeout=30)
            refused = [header_sign_in(t) for t in (None, person + "x", application)]
            signed_in = header_sign_in(person)
            chat = httpx.post(f"{base}/v1/chat", json={"message": "hello"}, timeout=30)
        finally:
            process.terminate()
            process.wait(timeout=30)
    assert ui.status_code == 200
    assert [r.status_code for r in refused] == [401, 401, 401]  # none, forged, an application
    assert signed_in.status_code == 200 and "access_token" in signed_in.cookies
    engine = make_engine(f"sqlite:///{var_dir / 'trading_assist.db'}")
    try:
        with engine.connect() as conn:
            role = conn.execute(
                select(User.role).where(User.external_id == jwks.claims()["oid"])
            ).scalar_one()
    finally:
        engine.dispose()
    assert role == "support"  # the user was found (here: made) by oid, the role from the token
    assert chat.status_code == 401  # the API itself still wants a token
