"""The chat UI under the platform's Content-Security-Policy, in a real browser (Debian's
Chromium driven by Playwright) against a real server process with a scripted model: the
sign-in page renders, the signed-in page's socket connects and a message is answered, and the
browser reports no violation of the policy."""

from __future__ import annotations

import re

from playwright.sync_api import expect, sync_playwright

from tests.conftest import copy_var_dir
from tests.e2e.ui_sign_in import send, signed_in, with_password
from tests.integration.live_server import free_port
from tests.integration.test_rate_limits import _start

CHROMIUM = "/usr/bin/chromium"


def test_the_ui_works_under_its_content_security_policy(demo_settings, tmp_path):
    var_dir = copy_var_dir(demo_settings.var_dir, tmp_path / "var")
    email = with_password(var_dir, "admin")
    port = free_port()
    process = _start(port, {"VAR_DIR": str(var_dir)}, "--ui")
    base = f"http://127.0.0.1:{port}"
    violations: list[str] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page()
            page.on(
                "console",
                lambda m: (
                    violations.append(m.text) if "Content Security Policy" in m.text else None
                ),
            )
            response = page.goto(f"{base}/chat")
            expect(page.locator("#email")).to_be_visible(timeout=60_000)  # the sign-in page
            signed_in(page, base, email)
            send(page, "hello")
            expect(page.get_by_text(re.compile("How many open orders do I have"))).to_be_visible(
                timeout=60_000
            )
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert "script-src 'self' 'unsafe-inline'" in response.headers["content-security-policy"]
    assert violations == []
