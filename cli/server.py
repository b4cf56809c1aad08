"""The served application: the API with the Chainlit UI mounted at /chat, in one process."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from api.main import create_app
from graphs.assistant import Assistant, share

UI_DIR = Path(__file__).resolve().parent.parent / "ui"


def build_server_app(assistant: Assistant) -> FastAPI:
    # Chainlit reads its config and theme from its app root, fixed before it is imported
    os.environ.setdefault("CHAINLIT_APP_ROOT", str(UI_DIR))
    from chainlit.utils import mount_chainlit

    share(assistant)
    app = create_app(assistant)
    mount_chainlit(app=app, target=str(UI_DIR / "app.py"), path="/chat")
    return app
