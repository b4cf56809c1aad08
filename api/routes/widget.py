"""The embeddable chat widget: `/widget.js`, which any site lists in a script tag, and
`/widget/demo`, a page that embeds it. Public by design: they are static files that hold no
data; every question the widget asks goes through the guarded chat routes with the token the
host page supplies (and from a page of another site only when CORS_ORIGINS names it)."""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

router = APIRouter(tags=["widget"])
STATIC = Path(__file__).resolve().parent.parent / "static"


@router.get("/widget.js", include_in_schema=False)
def widget_script() -> FileResponse:
    return FileResponse(
        STATIC / "widget.js",
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/widget/demo", include_in_schema=False, response_class=HTMLResponse)
def widget_demo(request: Request) -> HTMLResponse:
    """The demo page, its snippet naming this server's address."""
    page = (STATIC / "widget_demo.html").read_text(encoding="utf-8")
    return HTMLResponse(page.replace("{base}", html.escape(str(request.base_url))))
