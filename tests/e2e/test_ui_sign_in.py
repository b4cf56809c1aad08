"""The chat UI follows the platform's identity, in a real browser (Debian's Chromium driven by
Playwright) against a real server process with a scripted model on a copy of the demo data: a
wrong password is refused (and, repeated, locks the account's sign-in for a while), the right
one signs in and shows the product (its name, logo and
the welcome and starter questions of the user's role), and a customer's question is answered
with their own rows only."""

from __future__ import annotations

import json

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import func, select

from services.db.engines import make_engine
from services.db.models import Order
from tests.conftest import copy_var_dir
from tests.e2e.ui_sign_in import PASSWORD, sign_in, signed_in, with_password
from tests.integration.live_server import free_port
from tests.integration.test_rate_limits import _start

CHROMIUM = "/usr/bin/chromium"
QUESTION = "How many open orders do I have?"  # a customer's starter (ui/welcome.yaml)
OPEN = ("open", "partially_filled")


def _busiest_customer(var_dir) -> tuple[int, int, int]:
    """The customer with the most open orders: (user id, their count, everyone's count)."""
    engine = make_engine(f"sqlite:///{var_dir / 'trading_assist.db'}")
    try:
        with engine.connect() as conn:
            user_id, mine = conn.execute(
                select(Order.user_id, func.count())
                .where(Order.status.in_(OPEN))
                .group_by(Order.user_id)
                .order_by(func.count().desc(), Order.user_id)
            ).first()
            everyone = conn.execute(
                select(func.count()).select_from(Order).where(Order.status.in_(OPEN))
            ).scalar_one()
    finally:
        engine.dispose()
    return user_id, mine, everyone


@pytest.fixture(scope="module")
def platform(demo_settings, tmp_path_factory):
    var_dir = copy_var_dir(demo_settings.var_dir, tmp_path_factory.mktemp("ui-sign-in") / "var")
    script = var_dir.parent / "sql.json"
    sql = "SELECT COUNT(*) AS open_orders FROM orders WHERE status IN ('open', 'partially_filled')"
    script.write_text(json.dumps({QUESTION: sql}))
    port = free_port()
    process = _start(port, {"VAR_DIR": str(var_dir)}, "--ui", "--sql-script", str(script))
    try:
        yield f"http://127.0.0.1:{port}", var_dir
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def test_the_product_not_the_framework(platform):
    base, _ = platform
    page = httpx.get(f"{base}/chat", timeout=30)
    logo = httpx.get(f"{base}/chat/logo", params={"theme": "light"}, timeout=30)
    favicon = httpx.get(f"{base}/chat/favicon", timeout=30)
    assert "<title>Trading AI Assist</title>" in page.text
    assert logo.headers["content-type"].startswith("image/svg")
    assert "<title>Trading AI Assist</title>" in logo.text
    assert "Trading AI Assist" in favicon.text and "chainlit" not in favicon.text.lower()


def test_a_wrong_password_is_refused_and_the_right_one_signs_in(platform, browser):
    base, var_dir = platform
    user_id, mine, everyone = _busiest_customer(var_dir)
    email = with_password(var_dir, "customer", user_id)
    page = browser.new_page()

    sign_in(page, base, email, PASSWORD + "-wrong")
    expect(page.get_by_text("Sign in to Trading AI Assist")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Unable to sign in")).to_be_visible(timeout=30_000)
    expect(page.locator("#chat-input")).to_have_count(0)

    sign_in(page, base, email)
    expect(page.get_by_text("Welcome to Trading AI Assist.")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("button", name="My open orders")).to_be_visible()
    expect(page.get_by_role("button", name="KYC reviews waiting")).to_have_count(0)

    page.get_by_role("button", name="My open orders").click()
    # the model's SQL counts every open order; the guard kept only this customer's
    # one value: the sentence is the template's, named by the query's column
    expect(page.get_by_text(f"Open orders: {mine}.")).to_be_visible(timeout=60_000)
    assert mine != everyone
    page.get_by_role("button", name="Used Rows").click()
    expect(page.get_by_role("cell", name=str(mine), exact=True)).to_be_visible()


def test_staff_see_their_own_welcome_and_starters(platform, browser):
    base, var_dir = platform
    page = browser.new_page()
    signed_in(page, base, with_password(var_dir, "support"))
    expect(page.get_by_text("support desk")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="KYC reviews waiting")).to_be_visible()
    expect(page.get_by_role("button", name="My open orders")).to_have_count(0)


def test_repeated_wrong_passwords_lock_the_sign_in_with_a_clear_message(platform, browser):
    base, var_dir = platform
    email = with_password(var_dir, "admin")
    page = browser.new_page()
    for _ in range(5):  # RATE_LIMIT_SIGN_IN_ACCOUNT: 5 in 15 minutes
        sign_in(page, base, email, PASSWORD + "-wrong")
        expect(page.get_by_text("Unable to sign in")).to_be_visible(timeout=30_000)
    sign_in(page, base, email)  # the right password, while the account is locked
    expect(page.get_by_text("Too many failed sign-ins.")).to_be_visible(timeout=30_000)
    expect(page.locator("#chat-input")).to_have_count(0)
