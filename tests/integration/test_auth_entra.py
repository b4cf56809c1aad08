"""Entra ID bearer tokens against a JWKS served on 127.0.0.1 with the tests' own RSA keys:
each bad token is refused with 401 and nothing runs (no model call, no audit row)."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from api.main import create_app
from graphs.assistant import Assistant
from services import clock
from services.db.models import AuditLog, User
from services.llm.scripted import ScriptedChatModel
from tests.conftest import copy_database, make_settings, scripted_sql
from tests.integration import jwks
from tests.integration.events.helpers import outbox_types
from tests.integration.jwks import JwksServer, SigningKey, claims, sign

QUESTION = "How many users are there?"
SQL = "SELECT COUNT(*) AS users FROM users"


@pytest.fixture
def tenant():
    with JwksServer([SigningKey("key-1")]) as server:
        yield server


@pytest.fixture
async def entra_app(demo_settings, tmp_path, tenant):
    """An app in entra mode over a copy of the demo database (sign-ins add users)."""
    made = []

    async def build(**overrides):
        var_dir = tmp_path / f"var{len(made)}"
        var_dir.mkdir()
        copy_database(demo_settings.var_dir / "trading_assist.db", var_dir / "trading_assist.db")
        settings = make_settings(
            var_dir,
            **{
                "auth_mode": "entra",
                "entra_tenant_id": jwks.TENANT,
                "entra_audience": jwks.AUDIENCE,
                "entra_jwks_url": tenant.url,
                **overrides,
            },
        )
        model = ScriptedChatModel(responder=scripted_sql({QUESTION: SQL}))
        assistant = Assistant(settings, model)
        made.append(assistant)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(assistant)), base_url="http://127.0.0.1"
        )
        return client, assistant, model

    yield build
    for assistant in made:
        await assistant.aclose()


def _audit_rows(assistant) -> int:
    with assistant.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(AuditLog)).scalar_one()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _ask(client, headers):
    return await client.post("/v1/chat", json={"message": QUESTION}, headers=headers)


def test_issuer_and_keys_url_come_from_the_tenant(demo_settings, tmp_path):
    settings = make_settings(
        tmp_path, auth_mode="entra", entra_tenant_id=jwks.TENANT, entra_audience=jwks.AUDIENCE
    )
    assert settings.entra_issuer == jwks.ISSUER
    assert settings.entra_jwks_url == (
        f"https://login.microsoftonline.com/{jwks.TENANT}/discovery/v2.0/keys"
    )


async def test_a_valid_token_signs_the_user_in_and_is_answered(entra_app, tenant):
    client, assistant, model = await entra_app()
    key = tenant.keys[0]
    async with client:
        first = await _ask(client, _bearer(sign(key, claims())))
        again = await _ask(client, _bearer(sign(key, claims())))
    assert first.status_code == 200 and again.status_code == 200
    assert first.json()["rows"] == [[1]]  # a customer (no app role) sees their own row only
    with assistant.engine.connect() as conn:
        users = conn.execute(
            select(User.email, User.role).where(User.external_id == claims()["oid"])
        ).all()
    assert users == [("new.customer@example.com", "customer")]  # created once
    assert outbox_types(assistant.engine).count("user.registered") == 1  # announced once
    assert len(model.calls) >= 2


async def test_app_roles_set_the_platform_role(entra_app, tenant):
    client, assistant, _ = await entra_app()
    async with client:
        response = await _ask(client, _bearer(sign(tenant.keys[0], claims(roles=["Admin"]))))
    with assistant.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(User)).scalar_one()
        role = conn.execute(
            select(User.role).where(User.external_id == claims()["oid"])
        ).scalar_one()
    assert response.status_code == 200 and response.json()["rows"] == [[total]]
    assert role == "admin"


def _token_cases(key: SigningKey, stranger: SigningKey) -> dict[str, str]:
    now = clock.now()
    return {
        "expired": sign(key, claims(exp=now - timedelta(minutes=5), nbf=now - timedelta(hours=1))),
        "not yet valid": sign(key, claims(nbf=now + timedelta(minutes=10))),
        "wrong audience": sign(key, claims(aud="api://another-app")),
        "wrong issuer": sign(key, claims(iss="https://sts.windows.net/evil/")),
        "wrong tenant": sign(key, claims(tid="99999999-0000-0000-0000-000000000000")),
        "alg none": jwks.unsigned(claims(), key.kid),
        "HS256 with the public key": jwks.hs256_with_public_key(key, claims()),
        "unknown kid": sign(stranger, claims()),
        "missing oid": sign(key, claims(oid=None)),
        "missing tid": sign(key, claims(tid=None)),
        "not a JWT": "not-a-token",
    }


CASES = list(_token_cases(SigningKey("k"), SigningKey("s")))


@pytest.mark.parametrize("case", CASES)
async def test_bad_tokens_are_refused_and_nothing_runs(entra_app, tenant, case):
    client, assistant, model = await entra_app()
    token = _token_cases(tenant.keys[0], SigningKey("stranger"))[case]
    before = _audit_rows(assistant)
    async with client:
        response = await _ask(client, _bearer(token))
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "unauthenticated"
    assert model.calls == [] and _audit_rows(assistant) == before
    with assistant.engine.connect() as conn:
        assert conn.execute(select(User.id).where(User.external_id.is_not(None))).all() == []


async def test_a_small_clock_skew_is_tolerated(entra_app, tenant):
    client, _, _ = await entra_app()
    token = sign(tenant.keys[0], claims(nbf=clock.now() + timedelta(seconds=20)))
    async with client:
        assert (await _ask(client, _bearer(token))).status_code == 200


async def test_x_user_id_is_ignored_and_no_credentials_is_401(entra_app):
    client, _, model = await entra_app()
    async with client:
        response = await _ask(client, {"X-User-Id": "20"})
        docs = await client.get("/openapi.json")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="trading-assist"'
    assert model.calls == [] and docs.status_code == 200


async def test_scopes_limit_what_a_token_may_do(entra_app, tenant):
    client, assistant, model = await entra_app()
    key = tenant.keys[0]
    before = _audit_rows(assistant)
    async with client:
        reader = await _ask(client, _bearer(sign(key, claims(scp="documents:read"))))
        service = await _ask(client, _bearer(sign(key, claims(roles=["Service"], scp=None))))
        metrics = await client.get("/metrics", headers=_bearer(sign(key, claims())))
        chat_service = await _ask(
            client, _bearer(sign(key, claims(roles=["Service", "chat"], scp=None, azp="crm")))
        )
    assert (reader.status_code, service.status_code, metrics.status_code) == (403, 403, 403)
    assert reader.json()["error"]["code"] == "forbidden"
    assert chat_service.status_code == 200  # a service holds what its app roles name
    audit_after = _audit_rows(assistant)
    assert audit_after == before + 1  # only the service's answer was recorded
    with assistant.engine.connect() as conn:
        actors = conn.execute(select(AuditLog.actor_role).order_by(AuditLog.id.desc())).first()
    assert actors == ("service",)
    assert len(model.calls) >= 1  # the service's SQL (one value: no sentence call)


async def test_rotated_keys_are_fetched_once_the_cooldown_passed(entra_app, tenant):
    client, _, _ = await entra_app(entra_jwks_cooldown_s=0.5)
    old, new = tenant.keys[0], SigningKey("key-2")
    async with client:
        assert (await _ask(client, _bearer(sign(old, claims())))).status_code == 200
        tenant.keys = [new]  # the tenant rotates its signing key
        time.sleep(0.6)
        rotated = await _ask(client, _bearer(sign(new, claims())))
    assert rotated.status_code == 200
    assert tenant.fetches == 2


async def test_unknown_kids_refetch_the_keys_at_most_once_a_minute(entra_app, tenant):
    client, _, _ = await entra_app()  # the default cooldown: 60 s
    stranger = SigningKey("stranger")
    async with client:
        assert (await _ask(client, _bearer(sign(tenant.keys[0], claims())))).status_code == 200
        for _ in range(5):
            assert (await _ask(client, _bearer(sign(stranger, claims())))).status_code == 401
    assert tenant.fetches == 1


async def test_unreachable_signing_keys_are_503_not_401(entra_app, tenant):
    client, _, model = await entra_app(entra_jwks_url="http://127.0.0.1:9/keys")
    async with client:
        response = await _ask(client, _bearer(sign(tenant.keys[0], claims())))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "identity_unavailable" and model.calls == []
