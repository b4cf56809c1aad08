"""The embeddable chat widget in a real browser (Debian's Chromium, driven by Playwright)
against `trading-assist run` on a copy of the demo data, with a scripted model server speaking
OpenAI's protocol. Shop pages on two other origins (two more ports on 127.0.0.1) embed
/widget.js; CORS_ORIGINS lists the first only.

From the listed shop, a customer's widget streams an answer with its SQL (drawing each event
as it arrives), continues the same thread, and sets a price alert only after Approve; a widget
the page gave no token is told it is not signed in (401). From the unlisted shop the browser
refuses the call (CORS) and the widget says so. The server's own demo page works under its
content security policy."""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from services.auth import dev_tokens
from services.identity import Role
from services.llm.scripted_server import RecordedRequest, Reply, ScriptedModelServer
from tests.conftest import copy_var_dir
from tests.e2e.test_cli import BIN
from tests.e2e.test_run import _free_port
from tests.e2e.test_ui_confirm import _wait

CHROMIUM = "/usr/bin/chromium"
CUSTOMER = 20
# one row: its sentence comes from a template, so what the page shows is the guard's doing
SQL = "SELECT COUNT(*) AS users, MIN(id) AS first_id FROM users"
ANSWER_MS = 60_000
THRESHOLD = 123.45
SLOW, SLOW_S = "How many users are there today?", 4.0
ANSWER = f"Users: 1; first id: {CUSTOMER}."  # the guard kept the caller


def _alerts(var_dir: Path) -> int:
    """The customer's price alerts at the test's threshold."""
    with sqlite3.connect(var_dir / "trading_assist.db") as conn:
        query = "SELECT COUNT(*) FROM price_alerts WHERE user_id = ? AND threshold = ?"
        return conn.execute(query, (CUSTOMER, THRESHOLD)).fetchone()[0]


def _script(request: RecordedRequest) -> Reply:
    schema = (request.body.get("response_format") or {}).get("json_schema", {}).get("name")
    asked = request.last_user_text()
    if schema == "sql_draft":
        # the slow question's SQL takes a while: the stream's earlier events come first
        return Reply(json.dumps({"sql": SQL}), delay_s=SLOW_S if SLOW in asked else 0.0)
    if schema == "tool_call":
        arguments = {"symbol": "AAPL", "direction": "above", "threshold": THRESHOLD}
        return Reply(json.dumps({"tool": "create_price_alert", "arguments": arguments}))
    return Reply("ok")


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, *_args) -> None:
        pass


@contextmanager
def _static_site(folder: Path) -> Iterator[str]:
    """A plain web server for the shop's pages, on a port (an origin) of its own."""
    handler = functools.partial(_QuietFiles, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", _free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _shop_page(api: str, token: str | None) -> str:
    data_token = f' data-token="{token}"' if token else ""
    return (
        "<!doctype html><html><head><title>Shop</title></head><body><h1>The shop</h1>"
        f'<script src="{api}/widget.js" data-title="Shop assistant" data-open="true"'
        f"{data_token}></script></body></html>"
    )


@pytest.fixture(scope="module")
def platform(demo_settings, tmp_path_factory):
    """The API, and the two shops: (api, listed shop, unlisted shop, var dir)."""
    root = tmp_path_factory.mktemp("widget")
    var_dir = copy_var_dir(demo_settings.var_dir, root / "var")
    token = dev_tokens.mint(var_dir, CUSTOMER, Role.CUSTOMER)
    pages = root / "pages"
    pages.mkdir()
    port = _free_port()
    api = f"http://127.0.0.1:{port}"
    (pages / "shop.html").write_text(_shop_page(api, token))
    (pages / "anonymous.html").write_text(_shop_page(api, None))
    with (
        _static_site(pages) as listed,
        _static_site(pages) as unlisted,
        ScriptedModelServer(_script) as model,
    ):
        env = {
            **os.environ,
            "VAR_DIR": str(var_dir),
            "LLM_PROVIDER": "openai-compatible",
            "LLM_BASE_URL": f"{model.url}/v1",
            "CORS_ORIGINS": listed,
        }
        process = subprocess.Popen(
            [str(BIN), "run", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _wait(process, f"{api}/healthz")
            yield api, listed, unlisted, var_dir
        finally:
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=60)


@pytest.fixture
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def _ask(page: Page, question: str) -> None:
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")


def _watch(page: Page) -> tuple[list[str], list[dict]]:
    """The console's messages, and the bodies of the questions the widget sent."""
    console: list[str] = []
    asked: list[dict] = []
    page.on("console", lambda message: console.append(message.text))
    page.on(
        "request",
        lambda r: asked.append(r.post_data_json) if r.url.endswith("/v1/chat/stream") else None,
    )
    return console, asked


def test_a_listed_site_streams_answers_and_keeps_the_thread(platform, browser):
    api, listed, _, var_dir = platform
    page = browser.new_page()
    console, asked = _watch(page)
    page.goto(f"{listed}/shop.html")
    expect(page.get_by_text("Shop assistant")).to_be_visible()

    _ask(page, "How many users are there?")
    # a customer's count is scoped to their own row: 1
    expect(page.get_by_text(ANSWER)).to_be_visible(timeout=ANSWER_MS)
    page.get_by_text("SQL", exact=True).click()  # the step that shows the query
    expect(page.get_by_text(re.compile(r"SELECT COUNT\(\*\) AS users"))).to_be_visible()

    _ask(page, "And how many users are there now?")
    expect(page.get_by_text(ANSWER)).to_have_count(2, timeout=ANSWER_MS)
    assert "thread_id" not in asked[0]
    assert re.fullmatch(r"[0-9a-f]{32}", asked[1]["thread_id"])  # the first answer's thread

    _ask(page, f"Alert me when AAPL goes above {THRESHOLD}")
    expect(page.get_by_text(re.compile("Please confirm: alert you once when AAPL"))).to_be_visible(
        timeout=ANSWER_MS
    )
    approve = page.get_by_role("button", name="Approve")
    expect(approve).to_be_enabled()
    assert _alerts(var_dir) == 0  # nothing before the click
    approve.click()
    expect(page.get_by_text(re.compile(r"AAPL above 123\.45 \(active\)"))).to_be_visible(
        timeout=ANSWER_MS
    )
    assert _alerts(var_dir) == 1
    expect(approve).to_be_disabled()  # answered once
    assert not [m for m in console if "CORS" in m or "Content Security Policy" in m]


def test_the_answer_is_drawn_as_its_events_arrive(platform, browser):
    """The stream's events are drawn as they come, not when the response ends: while the
    model still writes the SQL, the request's route is already on screen. (The answer itself
    is one event: a sentence is checked against the rows, and a document answer against its
    sources, before anyone sees it, so no unchecked tokens are streamed.)"""
    _, listed, _, _ = platform
    page = browser.new_page()
    page.goto(f"{listed}/shop.html")
    _ask(page, SLOW)
    working = page.get_by_text("Working on it (sql)...")
    expect(working).to_be_visible(timeout=ANSWER_MS)
    answer = page.get_by_text(ANSWER)
    expect(answer).to_have_count(0)  # the SQL is still being written
    expect(answer).to_be_visible(timeout=ANSWER_MS)
    expect(working).to_have_count(0)  # done: the status line goes


def test_a_widget_without_a_token_is_told_to_sign_in(platform, browser):
    _, listed, _, _ = platform
    page = browser.new_page()
    page.goto(f"{listed}/anonymous.html")
    _ask(page, "How many users are there?")
    expect(page.get_by_text(re.compile(r"Not signed in \(401\)"))).to_be_visible(timeout=ANSWER_MS)
    expect(page.get_by_text(re.compile("must send Authorization: Bearer"))).to_be_visible()


def test_an_unlisted_site_is_refused_by_the_browser(platform, browser):
    api, _, unlisted, _ = platform
    page = browser.new_page()
    console, _ = _watch(page)
    page.goto(f"{unlisted}/shop.html")
    _ask(page, "How many users are there?")
    expect(page.get_by_text(re.compile("is not allowed to use it"))).to_be_visible(
        timeout=ANSWER_MS
    )
    expect(page.get_by_text(re.compile(re.escape(f"this site ({unlisted})")))).to_be_visible()
    assert any("blocked by CORS policy" in m for m in console)


def test_the_demo_page_works_under_its_content_security_policy(platform, browser):
    api, _, _, _ = platform
    page = browser.new_page()
    console, _ = _watch(page)
    response = page.goto(f"{api}/widget/demo")
    expect(page.get_by_text("Hello! Ask me about accounts")).to_be_visible()
    _ask(page, "How many users are there?")
    # the server's own page asks as the local operator, who sees every user
    expect(page.get_by_text(re.compile(r"Users: \d{2,}; first id: 1\."))).to_be_visible(
        timeout=ANSWER_MS
    )
    bubble = page.get_by_role("button", name="Open the chat")
    assert bubble.evaluate("b => getComputedStyle(b).position") == "fixed"  # styled, no inline
    assert "script-src 'self';" in response.headers["content-security-policy"]
    assert not [m for m in console if "Content Security Policy" in m]
