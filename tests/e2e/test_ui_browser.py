"""The chat UI in a real browser (Debian's Chromium, driven by Playwright) against
`trading-assist run` with the real model: a greeting, then a data question answered with its
SQL step, then a follow-up in the same conversation."""

from __future__ import annotations

import re
import sqlite3

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.e2e.test_run import _free_port, _start, _stop

pytestmark = pytest.mark.model
CHROMIUM = "/usr/bin/chromium"
MODEL_ANSWER_MS = 240_000  # a first answer from the model on two cores


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("ui")
    port = _free_port()
    process = _start(var_dir, port)
    try:
        yield f"http://127.0.0.1:{port}", var_dir
    finally:
        _stop(process)


@pytest.fixture
def page(platform):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        yield page
        browser.close()


def _send(page: Page, text: str) -> None:
    box = page.locator("#chat-input")
    box.click()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def test_chat_in_a_browser(platform, page):
    base, var_dir = platform
    page.goto(f"{base}/chat")
    expect(page.get_by_text("Ask me about accounts")).to_be_visible()

    _send(page, "hello")
    expect(page.get_by_text(re.compile("How many open orders do I have"))).to_be_visible()

    _send(page, "How many users are there?")
    with sqlite3.connect(var_dir / "trading_assist.db") as conn:
        users = conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]
    expect(page.get_by_text(re.compile(rf"\b{users}\b")).last).to_be_visible(
        timeout=MODEL_ANSWER_MS
    )
    expect(page.get_by_text("SQL").first).to_be_visible()  # the step that shows the query


def test_a_file_attached_in_the_chat_becomes_a_document(platform, page, tmp_path):
    base, _ = platform
    note = tmp_path / "desk_note.md"
    note.write_text(
        "# Desk note\n\n## Friday cut-off\n\nOrders for the Friday auction close at 15:45.\n"
    )
    page.goto(f"{base}/chat")
    expect(page.get_by_text("Ask me about accounts")).to_be_visible()
    page.locator("input[type=file]").first.set_input_files(note)
    expect(page.get_by_text("desk_note.md").first).to_be_visible()
    _send(page, "hello")
    expect(page.get_by_text(re.compile(r"desk_note\.md: added \(document \d+"))).to_be_visible(
        timeout=60_000
    )
    listed = httpx.get(f"{base}/v1/documents", timeout=30).json()
    assert "Desk note" in [d["title"] for d in listed]
