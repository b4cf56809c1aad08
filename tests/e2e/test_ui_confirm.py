"""The chat UI's Approve and Reject buttons in a real browser (Debian's Chromium, driven by
Playwright) against `trading-assist run` on a copy of the demo data, signed in as an
administrator. The model is a scripted server speaking OpenAI's protocol (the test is about the
confirmation, not the model): it asks for a write tool, the UI shows the summary with the two
buttons, and only the click on Approve carries it out."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import time

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from services.llm.scripted_server import RecordedRequest, Reply, ScriptedModelServer
from tests.conftest import copy_var_dir
from tests.e2e.test_cli import BIN
from tests.e2e.test_run import _free_port
from tests.e2e.ui_sign_in import send, signed_in, with_password

CHROMIUM = "/usr/bin/chromium"


def _script(request: RecordedRequest) -> Reply:
    schema = (request.body.get("response_format") or {}).get("json_schema", {}).get("name")
    if schema == "tool_call":
        name = re.search(r"called (\S+\.md)", request.last_user_text()).group(1)
        arguments = {"filename": name, "content": "# Desk\n\nThe desk opens at nine."}
        return Reply(json.dumps({"tool": "ingest_document", "arguments": arguments}))
    return Reply("ok")


@pytest.fixture(scope="module")
def platform(demo_settings, tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("ui-confirm") / "var"
    copy_var_dir(demo_settings.var_dir, var_dir)
    email = with_password(var_dir, "admin")  # adding a document is staff's
    port = _free_port()
    with ScriptedModelServer(_script) as model:
        env = {
            **os.environ,
            "VAR_DIR": str(var_dir),
            "LLM_PROVIDER": "openai-compatible",
            "LLM_BASE_URL": f"{model.url}/v1",
        }
        process = subprocess.Popen(
            [str(BIN), "run", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _wait(process, f"http://127.0.0.1:{port}/healthz")
            yield f"http://127.0.0.1:{port}", var_dir, email
        finally:
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=60)


def _wait(process: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"run exited early: {process.stderr.read()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.5)
    raise AssertionError("run did not become healthy")


def _titles(var_dir) -> list[str]:
    with sqlite3.connect(var_dir / "trading_assist.db") as conn:
        return [row[0] for row in conn.execute("SELECT filename FROM documents")]


def _ask(page, base: str, text: str) -> None:
    page.goto(f"{base}/chat")
    expect(page.locator("#chat-input")).to_be_visible(timeout=60_000)
    send(page, text)


def test_approve_carries_the_write_out_and_reject_does_not(platform):
    base, var_dir, email = platform
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        signed_in(page, base, email)

        _ask(page, base, "Add a note called approved-note.md to the documents")
        expect(page.get_by_text(re.compile("Please confirm: add the new document"))).to_be_visible(
            timeout=60_000
        )
        assert "approved-note.md" not in _titles(var_dir)  # nothing before the click
        page.get_by_role("button", name="Approve").click()
        expect(page.get_by_text(re.compile(r"status: added"))).to_be_visible(timeout=60_000)
        assert "approved-note.md" in _titles(var_dir)

        _ask(page, base, "Add a note called rejected-note.md to the documents")
        expect(page.get_by_role("button", name="Reject")).to_be_visible(timeout=60_000)
        page.get_by_role("button", name="Reject").click()
        expect(page.get_by_text(re.compile("Cancelled: nothing was done"))).to_be_visible(
            timeout=60_000
        )
        browser.close()
    assert "rejected-note.md" not in _titles(var_dir)
