"""The chat UI in a real browser (Debian's Chromium, driven by Playwright) against
`trading-assist run` with the real model, signed in as an administrator: a greeting, then a
data question answered with its SQL step; a file attached in the chat becomes a document."""

from __future__ import annotations

import re
import sqlite3

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.e2e.test_run import _free_port, _start, _stop, _wait_ready
from tests.e2e.ui_sign_in import send, signed_in, with_password

pytestmark = pytest.mark.model
CHROMIUM = "/usr/bin/chromium"
MODEL_ANSWER_MS = 240_000  # a first answer from the model on two cores


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("ui")
    port = _free_port()
    process = _start(var_dir, port)  # healthy once the demo data is loaded
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base)  # the model warm: MODEL_ANSWER_MS is for an answer, not a warm-up
        yield base, var_dir, with_password(var_dir, "admin")
    finally:
        _stop(process)


@pytest.fixture
def page(platform):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        yield page
        browser.close()


def test_chat_in_a_browser(platform, page):
    base, var_dir, email = platform
    signed_in(page, base, email)
    expect(page.get_by_text("Welcome to Trading AI Assist, administrator")).to_be_visible()

    send(page, "hello")
    expect(page.get_by_text(re.compile("How many open orders do I have"))).to_be_visible()

    send(page, "How many users are there?")
    with sqlite3.connect(var_dir / "trading_assist.db") as conn:
        users = conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]
    expect(page.get_by_text(re.compile(rf"\b{users}\b")).last).to_be_visible(
        timeout=MODEL_ANSWER_MS
    )
    expect(page.get_by_text("SQL").first).to_be_visible()  # the step that shows the query


def test_a_file_attached_in_the_chat_becomes_a_document(platform, page, tmp_path):
    base, _, email = platform
    note = tmp_path / "desk_note.md"
    note.write_text(
        "# Desk note\n\n## Friday cut-off\n\nOrders for the Friday auction close at 15:45.\n"
    )
    signed_in(page, base, email)
    # the file is sent as soon as it is chosen; a message sent before the upload has finished
    # goes without it
    with page.expect_response(_upload, timeout=60_000) as upload:
        page.locator("input[type=file]").first.set_input_files(note)
    assert upload.value.ok, (upload.value.status, upload.value.text())
    expect(page.get_by_text("desk_note.md").first).to_be_visible()
    send(page, "hello")
    expect(page.get_by_text(re.compile(r"desk_note\.md: added \(document \d+"))).to_be_visible(
        timeout=60_000
    )
    listed = httpx.get(f"{base}/v1/documents", timeout=30).json()
    assert "Desk note" in [d["title"] for d in listed]


def _upload(response) -> bool:
    """Chainlit's answer to a file chosen in the chat."""
    return response.request.method == "POST" and "/project/file" in response.url
