"""What identity costs a request: `Authenticator.authenticate` per credential kind, and one
rate-limit hit in memory and in Redis.

Credentials: the local operator (no credential), `X-User-Id` (a primary-key read), a
development token (RS256 verify + a user read), an API key (a hash lookup, and at most one
last-use write a minute), and an Entra token (RS256 verify against the key set as PyJWKClient
caches it between fetches, plus the user read and role check). Each is timed over `requests`
calls after a warm-up, on a fresh SQLite database with a small demo dataset. Budget: every
kind at most 5 ms at the median, so identity stays far below a model call.

    trading-assist bench auth [--requests 500] [--redis-url redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from pydantic import BaseModel, Field

from api.rate_limit import RateLimiter
from evals.bench_routing import Latency, latency
from services import clock
from services.auth import api_keys, dev_tokens
from services.auth.authenticator import Authenticator
from services.db.engines import make_engine
from services.db.migrate import upgrade
from services.demo_data.generator import load_demo_data
from services.identity import Caller, Role, Scope
from services.settings import AuthMode, Settings
from services.users import caller_for

BUDGET_MS = 5.0
TENANT = "00000000-0000-4000-8000-00000000bench"
AUDIENCE = "api://trading-assist-bench"


class AuthBenchReport(BaseModel):
    requests: int
    kinds: dict[str, Latency] = Field(description="authenticate() per credential kind.")
    rate_limit: dict[str, Latency] = Field(description="One limit hit: memory, and Redis if set.")
    budget_ms: float
    within_budget: bool = Field(description="Every credential kind's p50 within the budget.")


def _time(call: Callable[[], object], requests: int) -> Latency:
    for _ in range(min(20, requests)):
        call()
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return latency(samples)


def _entra(var_dir: Path, engine, settings: Settings) -> Callable[[], object]:
    """An Entra authenticator whose key set is already cached, and a call with a valid token."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**json.loads(RSAAlgorithm.to_jwk(key.public_key())), "kid": "bench", "alg": "RS256"}
    entra_settings = settings.model_copy(
        update={
            "auth_mode": AuthMode.ENTRA,
            "entra_tenant_id": TENANT,
            "entra_audience": AUDIENCE,
            "entra_issuer": f"https://login.microsoftonline.com/{TENANT}/v2.0",
            "entra_jwks_url": "http://127.0.0.1:9/never-fetched",
        }
    )
    authenticator = Authenticator(entra_settings, engine, lambda i: caller_for(engine, i))
    authenticator.entra.keys.jwk_set_cache.put({"keys": [jwk]})  # as cached between fetches
    now = clock.now()
    token = jwt.encode(
        {
            "iss": entra_settings.entra_issuer,
            "aud": AUDIENCE,
            "tid": TENANT,
            "oid": "bench-user",
            "preferred_username": "bench@example.org",
            "iat": now,
            "nbf": now,
            "exp": now + timedelta(hours=1),
        },
        key,
        algorithm="RS256",
        headers={"kid": "bench"},
    )
    return lambda: authenticator.authenticate(f"Bearer {token}", None, None)


async def _limit_latency(settings: Settings, requests: int) -> Latency:
    limiter = RateLimiter(settings)
    caller = Caller(role=Role.SERVICE, principal=f"bench-{uuid.uuid4().hex[:8]}")
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        await limiter.hit(caller, "GET /bench")
        samples.append((time.perf_counter() - started) * 1000)
    return latency(samples)


def run(requests: int = 500, redis_url: str | None = None) -> AuthBenchReport:
    with tempfile.TemporaryDirectory() as tmp:
        var_dir = Path(tmp)
        settings = Settings(_env_file=None, var_dir=var_dir, rate_limit="1000000/minute")
        engine = make_engine(settings.database_url)
        try:
            upgrade(engine)
            load_demo_data(engine, seed=7, as_of=clock.today(), users=20)
            local = Authenticator(settings, engine, lambda i: caller_for(engine, i))
            token = dev_tokens.mint(var_dir, 5, Role.CUSTOMER)
            key = api_keys.create(engine, "bench", Role.SERVICE, frozenset({Scope.CHAT})).key
            kinds = {
                "local operator": _time(lambda: local.authenticate(None, None, None), requests),
                "X-User-Id": _time(lambda: local.authenticate(None, None, 5), requests),
                "development token": _time(
                    lambda: local.authenticate(f"Bearer {token}", None, None), requests
                ),
                "API key": _time(lambda: local.authenticate(None, key, None), requests),
                "Entra token": _time(_entra(var_dir, engine, settings), requests),
            }
        finally:
            engine.dispose()
        limits = {"memory": asyncio.run(_limit_latency(settings, requests))}
        if redis_url:
            redis = settings.model_copy(
                update={"redis_url": redis_url, "rate_limit_namespace": "bench"}
            )
            limits["redis"] = asyncio.run(_limit_latency(redis, requests))
    return AuthBenchReport(
        requests=requests,
        kinds=kinds,
        rate_limit=limits,
        budget_ms=BUDGET_MS,
        within_budget=all(k.p50_ms <= BUDGET_MS for k in kinds.values()),
    )
