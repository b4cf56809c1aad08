"""The served application: the API with the Chainlit UI mounted at /chat, in one process."""

from __future__ import annotations

import os
import secrets
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI, Request
from rich.console import Console

from api.main import create_app
from graphs.assistant import Assistant, share
from services.auth.private_files import read_or_create
from services.settings import Settings

UI_DIR = Path(__file__).resolve().parent.parent / "ui"


def _serve_chat_without_redirect(app: FastAPI) -> None:
    """`/chat` answers like `/chat/` (Starlette would redirect); the UI's assets are absolute."""

    @app.middleware("http")
    async def chat_root(request: Request, call_next):
        if request.scope["path"] == "/chat":
            request.scope["path"] = "/chat/"
            request.scope["raw_path"] = b"/chat/"
        return await call_next(request)


def ui_session_secret(settings: Settings) -> str:
    """CHAINLIT_AUTH_SECRET, or one made for this install under VAR_DIR/auth (mode 0600)."""
    if settings.chainlit_auth_secret is not None:
        return settings.chainlit_auth_secret.get_secret_value()
    path = settings.var_dir / "auth" / "chainlit-secret"
    return read_or_create(path, lambda: secrets.token_urlsafe(48).encode()).decode()


def build_server_app(assistant: Assistant, *, warm_up: bool = False) -> FastAPI:
    """The API, and the chat UI at /chat behind the sign-in AUTH_MODE calls for (ui/app.py)."""
    # Chainlit reads its config and theme from its app root, fixed before it is imported,
    # and signs its session cookies with CHAINLIT_AUTH_SECRET, read when a user signs in
    os.environ.setdefault("CHAINLIT_APP_ROOT", str(UI_DIR))
    os.environ["CHAINLIT_AUTH_SECRET"] = ui_session_secret(assistant.settings)
    from chainlit.utils import mount_chainlit

    share(assistant)
    app = create_app(assistant, warm_up=warm_up)
    mount_chainlit(app=app, target=str(UI_DIR / "app.py"), path="/chat")
    from chainlit.config import config_translation_dir

    from ui.translations import apply_overlay

    apply_overlay(Path(config_translation_dir))  # written by Chainlit when it was imported
    _same_origin_socket()
    _serve_chat_without_redirect(app)
    return app


def base_url(host: str, port: int) -> str:
    """The address to reach a server bound to `host` from this machine.

    >>> base_url("0.0.0.0", 80), base_url("::1", 8000)
    ('http://127.0.0.1:80', 'http://[::1]:8000')
    """
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def announce_when_ready(
    server: uvicorn.Server, settings: Settings, description: str, console: Console
) -> threading.Thread:
    """Print where to go once /readyz answers 200 (the model warm, the databases answering),
    not when the socket opens: a URL printed earlier would answer slowly or not at all."""
    base = base_url(settings.host, settings.port)

    def wait() -> None:
        while not server.should_exit:
            try:
                if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            return
        console.print(f"[green]Trading AI Assist is ready[/green] ({description})")
        console.print(f"  chat UI   {base}/chat")
        console.print(f"  API docs  {base}/docs\n  chat API  POST {base}/v1/chat")
        console.print("Press Ctrl-C to stop.")

    thread = threading.Thread(target=wait, name="announce-ready", daemon=True)
    thread.start()
    return thread


def _same_origin_socket() -> None:
    """Let only the UI's own page open its socket. Chainlit turns socket.io's origin check off;
    the session cookie is SameSite=Lax, but a socket opened from another site with the user's
    cookie would still read their answers. `None` is socket.io's "same origin"
    (X-Forwarded-Host honoured behind a proxy)."""
    from chainlit.server import sio

    sio.eio.cors_allowed_origins = None
