"""The served application: the API with the Chainlit UI mounted at /chat, in one process."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI, Request

from api.main import create_app
from graphs.assistant import Assistant, share

UI_DIR = Path(__file__).resolve().parent.parent / "ui"


def _serve_chat_without_redirect(app: FastAPI) -> None:
    """`/chat` answers like `/chat/` (Starlette would redirect); the UI's assets are absolute."""

    @app.middleware("http")
    async def chat_root(request: Request, call_next):
        if request.scope["path"] == "/chat":
            request.scope["path"] = "/chat/"
            request.scope["raw_path"] = b"/chat/"
        return await call_next(request)


def build_server_app(assistant: Assistant, *, warm_up: bool = False) -> FastAPI:
    # Chainlit reads its config and theme from its app root, fixed before it is imported
    os.environ.setdefault("CHAINLIT_APP_ROOT", str(UI_DIR))
    from chainlit.utils import mount_chainlit

    share(assistant)
    app = create_app(assistant, warm_up=warm_up)
    mount_chainlit(app=app, target=str(UI_DIR / "app.py"), path="/chat")
    _same_origin_socket()
    _serve_chat_without_redirect(app)
    return app


def _same_origin_socket() -> None:
    """Let only the UI's own page open its socket. Chainlit turns socket.io's origin check off,
    and the UI asks for no login (it binds 127.0.0.1 and acts as the local operator), so any
    site the operator visits could otherwise open the socket from their browser and read the
    answers. `None` is socket.io's "same origin" (X-Forwarded-Host honoured behind a proxy)."""
    from chainlit.server import sio

    sio.eio.cors_allowed_origins = None
