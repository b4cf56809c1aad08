"""The chat UI's welcome file and its session secret: every role a person signs in with is
welcomed with its own starters, a broken file is refused naming what is missing, and the
secret that signs the UI's sessions is made once per install, readable by its owner only."""

from __future__ import annotations

import doctest
import os
import stat

import pytest
from pydantic import ValidationError

import ui.welcome
from cli.server import ui_session_secret
from services.identity import Role
from tests.conftest import make_settings
from ui.welcome import PEOPLE, load_welcome


def test_every_person_has_a_welcome_and_starters_of_their_own():
    assert doctest.testmod(ui.welcome).failed == 0
    welcomes = load_welcome()
    assert set(PEOPLE) <= set(welcomes)
    questions = {role: {s.message for s in welcomes[role].starters} for role in PEOPLE}
    assert not questions[Role.CUSTOMER] & questions[Role.SUPPORT]
    assert not questions[Role.CUSTOMER] & questions[Role.ADMIN]


def test_a_welcome_file_without_a_role_is_refused(tmp_path):
    broken = tmp_path / "welcome.yaml"
    broken.write_text(
        "customer:\n  welcome: hi\n  starters:\n    - {label: a, message: b}\n", encoding="utf-8"
    )
    with pytest.raises(ValidationError, match="no entry for support, admin"):
        load_welcome(broken)


def test_the_ui_session_secret_is_made_once_and_kept_private(tmp_path, monkeypatch):
    # a server built earlier in this process exported its secret for Chainlit to read
    monkeypatch.delenv("CHAINLIT_AUTH_SECRET", raising=False)
    settings = make_settings(tmp_path)
    first, again = ui_session_secret(settings), ui_session_secret(settings)
    path = tmp_path / "auth" / "chainlit-secret"
    assert first == again and len(first) >= 64
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    given = make_settings(tmp_path, chainlit_auth_secret="from-the-environment")
    assert ui_session_secret(given) == "from-the-environment"
