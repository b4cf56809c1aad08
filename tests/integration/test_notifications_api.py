"""The notification endpoints through httpx, on a freshly migrated SQLite database (the demo
database is shared by other tests and stays untouched)."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest
from sqlalchemy import insert

from api.main import create_app
from graphs.assistant import Assistant
from services.db.engines import make_engine
from services.db.migrate import upgrade
from services.db.models import User
from services.llm.scripted import ScriptedChatModel, replies
from tests.conftest import make_settings

ANN, BOB, SUPPORT = 1, 2, 3


@pytest.fixture
async def client(tmp_path):
    settings = make_settings(tmp_path / "var")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(User),
            [
                {
                    "id": user_id,
                    "email": f"{name}@example.com",
                    "full_name": name.title(),
                    "country": "GB",
                    "role": role,
                    "tier": "standard",
                    "status": "active",
                    "created_at": datetime(2026, 1, 1),
                }
                for user_id, name, role in (
                    (ANN, "ann", "customer"),
                    (BOB, "bob", "customer"),
                    (SUPPORT, "sam", "support"),
                )
            ],
        )
    engine.dispose()
    assistant = Assistant(settings, ScriptedChatModel(responder=replies("unused")))
    transport = httpx.ASGITransport(app=create_app(assistant))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client
    await assistant.aclose()


def as_user(user_id: int) -> dict[str, str]:
    return {"X-User-Id": str(user_id)}


async def test_staff_message_listed_and_read_by_its_recipient_only(client):
    message = {
        "user_id": ANN,
        "subject": "Welcome",
        "body": "Glad to have you.",
        "channel": "in_app",
    }
    refused = await client.post("/v1/notifications", json=message, headers=as_user(BOB))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "notification_forbidden"
    two_lines = {**message, "subject": "Two\nlines"}
    invalid = await client.post("/v1/notifications", json=two_lines, headers=as_user(SUPPORT))
    assert invalid.status_code == 422 and "one line" in invalid.json()["error"]["message"]

    sent = await client.post("/v1/notifications", json=message, headers=as_user(SUPPORT))
    assert sent.status_code == 201 and sent.json()["status"] == "sent"
    notification_id = sent.json()["id"]

    unread = await client.get("/v1/notifications?unread_only=true", headers=as_user(ANN))
    assert [n["subject"] for n in unread.json()] == ["Welcome"]
    assert (await client.get("/v1/notifications", headers=as_user(BOB))).json() == []
    stranger = await client.post(f"/v1/notifications/{notification_id}/read", headers=as_user(BOB))
    assert stranger.status_code == 404
    read = await client.post(f"/v1/notifications/{notification_id}/read", headers=as_user(ANN))
    assert read.status_code == 200 and read.json()["status"] == "read"
    after = await client.get("/v1/notifications?unread_only=true", headers=as_user(ANN))
    assert after.json() == []


async def test_preferences_read_and_changed_by_their_owner(client):
    change = {"kind": "price_alert_fired", "channel": "push", "enabled": True}
    changed = await client.put("/v1/notifications/preferences", json=change, headers=as_user(ANN))
    assert changed.status_code == 200
    assert changed.json() == {**change, "is_default": False}

    mine = await client.get("/v1/notifications/preferences", headers=as_user(ANN))
    chosen = [p for p in mine.json() if not p["is_default"]]
    assert chosen == [{**change, "is_default": False}]
    assert len(mine.json()) == 8 * 4  # every event kind on every channel

    others = await client.put(
        "/v1/notifications/preferences", json={**change, "user_id": ANN}, headers=as_user(BOB)
    )
    assert others.status_code == 403
    operator = await client.get("/v1/notifications/preferences")
    assert operator.status_code == 422 and "user_id" in operator.json()["error"]["message"]
    staff = await client.get(
        f"/v1/notifications/preferences?user_id={ANN}", headers=as_user(SUPPORT)
    )
    assert staff.status_code == 200 and staff.json() == mine.json()
