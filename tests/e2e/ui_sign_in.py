"""Signing in to the chat UI in a browser, for the UI tests: a password set directly on the
test's own copy of the database, then Chainlit's login form filled the way a person does."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from services.auth import passwords
from services.db.engines import make_engine
from services.db.models import User

PASSWORD = "test-only-password-7d1f"


def with_password(var_dir: Path, role: str, user_id: int | None = None) -> str:
    """The email of an active user of `role` (or `user_id`), whose password is now PASSWORD."""
    engine = make_engine(f"sqlite:///{var_dir / 'trading_assist.db'}")
    try:
        query = select(User.id, User.email).where(User.role == role, User.status == "active")
        if user_id is not None:
            query = query.where(User.id == user_id)
        with engine.connect() as conn:
            user = conn.execute(query.order_by(User.id)).first()
        passwords.set_password(engine, user.id, PASSWORD)
    finally:
        engine.dispose()
    return user.email


def _type_into(page: Page, selector: str, text: str) -> None:
    page.locator(selector).click()
    page.keyboard.type(text)


def sign_in(page: Page, base: str, email: str, password: str = PASSWORD) -> None:
    """Open the UI, which asks for a sign-in first, and sign in."""
    page.goto(f"{base}/chat")
    _type_into(page, "#email", email)
    _type_into(page, "#password", password)
    page.get_by_role("button", name="Sign In").click()


def signed_in(page: Page, base: str, email: str, password: str = PASSWORD) -> None:
    """Signed in, with the chat's socket connected: the page shows the chat before it
    connects, and until it has, the server knows no session to take a message or a file."""
    with page.expect_websocket(timeout=60_000):
        sign_in(page, base, email, password)
    expect(page.locator("#chat-input")).to_be_visible(timeout=60_000)


def send(page: Page, text: str) -> None:
    """Type a message and send it once the UI can (its socket connects after the sign-in)."""
    page.locator("#chat-input").click()
    page.keyboard.type(text)
    expect(page.locator("#chat-submit")).to_be_enabled(timeout=60_000)
    page.keyboard.press("Enter")
