"""`trading-assist notify ...` in process, on a migrated SQLite database, with a real SMTP
server (aiosmtpd) receiving the email."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from cli.main import app
from services.db.engines import make_engine
from services.db.migrate import upgrade
from services.db.models import User
from services.settings import get_settings
from tests.integration.smtp_server import (  # noqa: F401 - the fixtures are used by name
    SmtpServer,
    smtp_fixture,
)

CUSTOMER, SUPPORT = 1, 2


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch, smtp: SmtpServer) -> Path:
    var = tmp_path / "var"
    for name, value in {
        "VAR_DIR": str(var),
        "COLUMNS": "200",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_STARTTLS": "false",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    engine = make_engine(get_settings().database_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(User),
            [
                {
                    "id": user_id,
                    "email": f"{role}@example.com",
                    "full_name": f"{role.title()} Person",
                    "country": "GB",
                    "role": role,
                    "tier": "standard",
                    "status": "active",
                    "created_at": datetime(2026, 1, 1),
                }
                for user_id, role in ((CUSTOMER, "customer"), (SUPPORT, "support"))
            ],
        )
    engine.dispose()
    yield var
    get_settings.cache_clear()


def run(*args: str):
    return CliRunner().invoke(app, ["notify", *args])


def test_staff_send_then_deliver_reaches_the_smtp_server(var_dir, smtp):
    message = ["--user-id", str(CUSTOMER), "--subject", "Statement", "--body", "It is ready."]
    refused = run("send", *message, "--channel", "email", "--as-user-id", str(CUSTOMER))
    assert refused.exit_code == 1
    assert "only support staff and admins can send notifications" in refused.output

    sent = run("send", *message, "--channel", "email", "--as-user-id", str(SUPPORT))
    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.stdout)["status"] == "pending"

    delivered = run("deliver")
    assert delivered.exit_code == 0, delivered.output
    assert json.loads(delivered.stdout) == {"sent": 1, "retrying": 0, "failed": 0}
    assert [m["Subject"] for m in smtp.mailbox.messages] == ["Statement"]

    listed = run("list", "--user-id", str(CUSTOMER))
    assert listed.exit_code == 0 and "Statement" in listed.output and "sent" in listed.output


def test_preferences_shown_and_changed(var_dir):
    changed = run(
        "preferences",
        "--user-id",
        str(CUSTOMER),
        "--kind",
        "payment_failed",
        "--channel",
        "sms",
        "--enable",
        "--as-user-id",
        str(CUSTOMER),
    )
    assert changed.exit_code == 0, changed.output
    assert json.loads(changed.stdout) == {
        "kind": "payment_failed",
        "channel": "sms",
        "enabled": True,
        "is_default": False,
    }
    shown = run("preferences", "--user-id", str(CUSTOMER))
    row = next(line for line in shown.output.splitlines() if "payment_failed" in line)
    assert "on *" in row and row.count("off") == 1  # push stays off by default
    half = run("preferences", "--user-id", str(CUSTOMER), "--kind", "payment_failed")
    assert half.exit_code == 2 and "needs --kind, --channel and --enable/--disable" in half.output


def test_bench_reports_each_phase(var_dir):
    result = run("bench", "--events", "6", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["queued"], report["emails_received"]) == (12, 6)
    assert [report[p]["items"] for p in ("handle", "duplicates", "deliver", "dead_relay")] == [
        6
    ] * 4
    assert all(report[p]["per_s"] > 0 for p in ("handle", "deliver"))
