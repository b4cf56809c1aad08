"""The chat UI's password sign-in against guessing, on a real server process with the UI
mounted (Chainlit's own login route) on a copy of the demo data: wrong passwords spend the
account's budget and then even the right one is refused with the product's message until the
window has passed; wrong sign-ins to any accounts spend the client address's budget; both are
logged. The sign-in page shows the product's title."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.conftest import copy_var_dir
from tests.e2e.ui_sign_in import PASSWORD, with_password
from tests.integration.live_server import free_port
from tests.integration.test_rate_limits import _start

ACCOUNT_WINDOW_S = 5


@pytest.fixture
def server(demo_settings, tmp_path):
    var_dir = copy_var_dir(demo_settings.var_dir, tmp_path / "var")
    email = with_password(var_dir, "customer")
    port = free_port()
    env = {
        "VAR_DIR": str(var_dir),
        "RATE_LIMIT_SIGN_IN_ACCOUNT": f"3/{ACCOUNT_WINDOW_S} seconds",
        "RATE_LIMIT_SIGN_IN_CLIENT": "6/minute",
    }
    process = _start(port, env, "--ui")
    try:
        yield f"http://127.0.0.1:{port}", email, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def _sign_in(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post("/chat/login", data={"username": email, "password": password})


def test_failed_sign_ins_are_refused_for_a_while_per_account_and_per_address(server):
    base, email, process = server
    with httpx.Client(base_url=base, timeout=30) as client:
        wrong = [_sign_in(client, email, PASSWORD + "-wrong").status_code for _ in range(3)]
        locked = _sign_in(client, email, PASSWORD)  # the right password, too soon
        time.sleep(int(locked.headers["retry-after"]) + 0.5)
        after_window = _sign_in(client, email, PASSWORD)
        # three more wrong ones, to other (unknown) accounts: the address has spent its six
        others = [
            _sign_in(client, f"nobody{n}@example.invalid", PASSWORD).status_code for n in range(3)
        ]
        by_address = _sign_in(client, email, PASSWORD)
        translations = client.get("/chat/project/translations", params={"language": "en-US"})
    process.terminate()
    log = process.communicate(timeout=30)[1]

    assert wrong == [401, 401, 401]
    assert locked.status_code == 429
    assert locked.json()["detail"].startswith("too many failed sign-ins; try again in")
    assert 1 <= int(locked.headers["retry-after"]) <= ACCOUNT_WINDOW_S
    assert after_window.status_code == 200, after_window.text
    assert others == [401, 401, 401]
    assert by_address.status_code == 429 and int(by_address.headers["retry-after"]) > 5
    words = translations.json()["translation"]["auth"]["login"]
    assert words["title"] == "Sign in to Trading AI Assist"
    assert "Too many failed sign-ins" in words["errors"]["too many requests"]
    refusals = [line for line in log.splitlines() if "too many failed sign-ins" in line]
    assert len(refusals) == 2 and all("from 127.0.0.1" in line for line in refusals)
    assert email not in log  # the account is named by a digest, not its email
