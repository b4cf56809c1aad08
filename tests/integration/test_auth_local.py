"""Local mode's credentials through the real CLI and the HTTP surface: API keys (created,
used, last use recorded, revoked, wrong scope), development tokens (accepted here, refused in
entra mode), and local mode refused on a non-loopback HOST."""

from __future__ import annotations

import os
import stat

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from api.main import create_app
from cli.main import app as cli
from graphs.assistant import Assistant
from services.db.models import ApiKey, AuditLog
from services.llm.scripted import ScriptedChatModel
from services.settings import SettingsError, get_settings, load_settings
from tests.conftest import copy_database, make_settings, scripted_sql
from tests.integration import jwks
from tests.integration.jwks import JwksServer, SigningKey

QUESTION = "How many users are there?"


@pytest.fixture
def var_dir(demo_settings, tmp_path, monkeypatch):
    """VAR_DIR for the CLI: a copy of the demo database."""
    var = tmp_path / "var"
    var.mkdir()
    copy_database(demo_settings.var_dir / "trading_assist.db", var / "trading_assist.db")
    monkeypatch.setenv("VAR_DIR", str(var))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield var
    get_settings.cache_clear()


@pytest.fixture
async def serve(var_dir):
    made = []

    def build(**overrides) -> tuple[httpx.AsyncClient, Assistant, ScriptedChatModel]:
        settings = make_settings(var_dir, **overrides)
        model = ScriptedChatModel(
            responder=scripted_sql({QUESTION: "SELECT COUNT(*) AS users FROM users"})
        )
        assistant = Assistant(settings, model)
        made.append(assistant)
        transport = httpx.ASGITransport(app=create_app(assistant))
        return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1"), assistant, model

    yield build
    for assistant in made:
        await assistant.aclose()


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def _audit_rows(assistant) -> int:
    with assistant.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(AuditLog)).scalar_one()


async def test_api_key_created_used_and_revoked(var_dir, serve):
    key = run("apikey", "create", "--name", "crm-sync", "--scopes", "chat,tools:read")
    reader = run("apikey", "create", "--name", "tools-only", "--scopes", "tools:read")
    assert key.startswith("tak_") and len(key) > 40
    client, assistant, model = serve()
    async with client:
        answered = await client.post(
            "/v1/chat", json={"message": QUESTION}, headers={"Authorization": f"Bearer {key}"}
        )
        by_header = await client.post(
            "/v1/chat", json={"message": QUESTION}, headers={"X-API-Key": key}
        )
        calls = len(model.calls)
        audit = _audit_rows(assistant)
        wrong_scope = await client.post(
            "/v1/chat", json={"message": QUESTION}, headers={"X-API-Key": reader}
        )
        made_up = await client.post(
            "/v1/chat", json={"message": QUESTION}, headers={"X-API-Key": "tak_" + "x" * 43}
        )
        with assistant.engine.connect() as conn:
            stored = conn.execute(
                select(ApiKey.key_hash, ApiKey.last_used_at).where(ApiKey.name == "crm-sync")
            ).one()
        listed = run("apikey", "list")
        run("apikey", "revoke", "crm-sync")
        revoked = await client.post(
            "/v1/chat", json={"message": QUESTION}, headers={"X-API-Key": key}
        )
    assert answered.status_code == 200 and by_header.status_code == 200
    assert answered.json()["rows"][0][0] > 1  # a service sees every customer's rows
    assert stored.last_used_at is not None and key not in stored.key_hash  # only the hash kept
    assert "crm-sync" in listed and "chat,tools:read" in listed and key not in listed
    assert wrong_scope.status_code == 403 and wrong_scope.json()["error"]["code"] == "forbidden"
    assert made_up.status_code == 401 and revoked.status_code == 401
    assert revoked.headers["www-authenticate"].startswith("Bearer")
    assert len(model.calls) == calls and _audit_rows(assistant) == audit  # nothing ran after


async def test_api_key_bound_to_a_user_acts_as_that_user(var_dir, serve):
    key = run(
        "apikey",
        "create",
        "--name",
        "app-20",
        "--scopes",
        "chat",
        "--role",
        "customer",
        "--user-id",
        "20",
    )
    listed = run("apikey", "list")
    client, _, _ = serve()
    async with client:
        answered = await client.post(
            "/v1/chat", json={"message": QUESTION}, headers={"X-API-Key": key}
        )
    assert answered.status_code == 200, answered.text
    assert answered.json()["rows"] == [[1]]  # a customer's key sees only that customer's row
    line = next(line for line in listed.splitlines() if "app-20" in line)
    assert "customer" in line and " 20 " in line


def test_api_key_requests_that_cannot_be_honoured(var_dir):
    for args, message in [
        (["--scopes", "chat", "--role", "customer", "--user-id", "999999"], "no user with id"),
        (["--scopes", "chat,telepathy"], "unknown scope 'telepathy'"),
        (["--scopes", "admin", "--role", "customer", "--user-id", "20"], "may not hold admin"),
        (["--scopes", "chat", "--role", "customer"], "must act for a user id"),
    ]:
        result = CliRunner().invoke(cli, ["apikey", "create", "--name", "k", *args])
        assert result.exit_code == 1 and message in result.output, result.output
    run("apikey", "create", "--name", "dup", "--scopes", "chat")
    again = CliRunner().invoke(cli, ["apikey", "create", "--name", "dup", "--scopes", "chat"])
    assert again.exit_code == 1 and "already exists" in again.output


async def test_dev_tokens_in_local_mode_only(var_dir, serve):
    token = run("token", "--user-id", "20")
    narrow = run("token", "--user-id", "20", "--scopes", "documents:read")
    key_file = var_dir / "auth" / "dev-token-key.pem"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    local, _, _ = serve()
    tenant = JwksServer([SigningKey("tenant-key")])
    entra, _, entra_model = serve(
        auth_mode="entra",
        entra_tenant_id=jwks.TENANT,
        entra_audience=jwks.AUDIENCE,
        entra_jwks_url=tenant.url,
    )
    headers = {"Authorization": f"Bearer {token}"}
    with tenant:
        async with local, entra:
            scoped = await local.post("/v1/chat", json={"message": QUESTION}, headers=headers)
            refused = await entra.post("/v1/chat", json={"message": QUESTION}, headers=headers)
            too_narrow = await local.post(
                "/v1/chat",
                json={"message": QUESTION},
                headers={"Authorization": f"Bearer {narrow}"},
            )
            tampered = await local.post(
                "/v1/chat",
                json={"message": QUESTION},
                headers={"Authorization": f"Bearer {token[:-4]}AAAA"},
            )
    assert scoped.status_code == 200 and scoped.json()["rows"] == [[1]]  # user 20, a customer
    assert refused.status_code == 401 and entra_model.calls == []
    assert too_narrow.status_code == 403 and tampered.status_code == 401


async def test_local_operator_and_x_user_id(serve):
    client, _, _ = serve()
    async with client:
        operator = await client.post("/v1/chat", json={"message": QUESTION})
        customer = await client.post(
            "/v1/chat", json={"message": QUESTION}, headers={"X-User-Id": "20"}
        )
        basic = await client.post(
            "/v1/chat", json={"message": QUESTION}, headers={"Authorization": "Basic YTpi"}
        )
        metrics = await client.get("/metrics", headers={"X-User-Id": "20"})
    assert operator.json()["rows"][0][0] > 1 and customer.json()["rows"] == [[1]]
    assert basic.status_code == 401
    assert metrics.status_code == 403  # a customer holds no admin scope


def test_local_mode_on_a_non_loopback_host_is_refused(tmp_path, monkeypatch):
    with pytest.raises(SettingsError) as refused:
        load_settings(_env_file=None, var_dir=tmp_path, host="0.0.0.0")
    assert "AUTH_MODE" in str(refused.value) and "HOST=0.0.0.0" in str(refused.value)
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        assert load_settings(_env_file=None, var_dir=tmp_path, host=host).host == host
    entra = load_settings(
        _env_file=None,
        var_dir=tmp_path,
        host="0.0.0.0",
        auth_mode="entra",
        entra_tenant_id=jwks.TENANT,
        entra_audience=jwks.AUDIENCE,
    )
    assert entra.host == "0.0.0.0"

    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        by_option = CliRunner().invoke(cli, ["run", "--host", "0.0.0.0"])
        monkeypatch.setenv("HOST", "10.1.2.3")
        get_settings.cache_clear()
        by_setting = CliRunner().invoke(cli, ["run"])
    finally:
        get_settings.cache_clear()
    for result, host in ((by_option, "0.0.0.0"), (by_setting, "10.1.2.3")):
        assert result.exit_code == 2, result.output
        assert "AUTH_MODE" in result.output and f"HOST={host}" in result.output
    assert not (tmp_path / "trading_assist.db").exists()  # refused before anything started
