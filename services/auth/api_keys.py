"""API keys for other systems: `tak_` and 43 random characters, shown once at creation.

Only the key's sha256 is stored: the key has 256 bits of entropy, so a fast hash is as safe as
a slow one, and a lookup by hash needs no per-key salt. The found hash is compared again in
constant time. Last use is written at most once a minute per key (not on every request).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import Engine, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from services import clock
from services.db.models import ApiKey, User
from services.errors import AssistantError
from services.identity import ROLE_SCOPES, Caller, Role, Scope

log = logging.getLogger(__name__)

PREFIX = "tak_"
LAST_USE_EVERY = timedelta(minutes=1)


class ApiKeyInfo(BaseModel):
    """A key as listed: never the key itself."""

    id: int
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it.")
    role: Role
    scopes: list[Scope]
    user_id: int | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class CreatedKey(BaseModel):
    info: ApiKeyInfo
    key: str = Field(description="The key itself; shown once, not kept.")


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_scopes(text: str) -> frozenset[Scope]:
    """`tools:read,tools:write` as scopes; an unknown name is refused, naming the known ones."""
    scopes = set()
    for name in (part.strip() for part in text.split(",")):
        if not name:
            continue
        try:
            scopes.add(Scope(name))
        except ValueError:
            known = ", ".join(s.value for s in Scope)
            raise AssistantError(
                "invalid_api_key_request", f"unknown scope {name!r} (known: {known})"
            ) from None
    return frozenset(scopes)


def create(
    engine: Engine, name: str, role: Role, scopes: frozenset[Scope], user_id: int | None = None
) -> CreatedKey:
    if not scopes:
        raise AssistantError("invalid_api_key_request", "a key needs at least one scope")
    if not scopes <= ROLE_SCOPES[role]:
        extra = ", ".join(sorted(scopes - ROLE_SCOPES[role]))
        raise AssistantError("invalid_api_key_request", f"the {role} role may not hold {extra}")
    if role in (Role.CUSTOMER, Role.SUPPORT) and user_id is None:
        raise AssistantError("invalid_api_key_request", f"a {role} key must act for a user id")
    key = PREFIX + secrets.token_urlsafe(32)
    values = dict(
        name=name,
        prefix=key[:10],
        key_hash=digest(key),
        role=role.value,
        scopes=",".join(sorted(scopes)),
        user_id=user_id,
        created_at=clock.utcnow(),
    )
    try:
        with engine.begin() as conn:
            if user_id is not None and not conn.scalar(select(User.id).where(User.id == user_id)):
                raise AssistantError("unknown_user", f"there is no user with id {user_id}")
            key_id = conn.execute(insert(ApiKey).values(**values)).inserted_primary_key[0]
    except IntegrityError:
        raise AssistantError(
            "invalid_api_key_request", f"a key named {name!r} already exists"
        ) from None
    log.info("api key %s (%s) created for role %s", key_id, name, role)
    return CreatedKey(info=_info({**values, "id": key_id}), key=key)


def _info(row) -> ApiKeyInfo:  # noqa: ANN001 - a row mapping
    return ApiKeyInfo(
        **{
            **{k: row[k] for k in ApiKeyInfo.model_fields if k in row},
            "scopes": [s for s in row["scopes"].split(",") if s],
            "last_used_at": row.get("last_used_at"),
            "revoked_at": row.get("revoked_at"),
        }
    )


def list_keys(engine: Engine) -> list[ApiKeyInfo]:
    with engine.connect() as conn:
        rows = conn.execute(select(ApiKey.__table__).order_by(ApiKey.id)).mappings().all()
    return [_info(dict(row)) for row in rows]


def revoke(engine: Engine, name: str) -> ApiKeyInfo:
    with engine.begin() as conn:
        changed = conn.execute(
            update(ApiKey)
            .where(ApiKey.name == name, ApiKey.revoked_at.is_(None))
            .values(revoked_at=clock.utcnow())
        ).rowcount
        row = conn.execute(select(ApiKey.__table__).where(ApiKey.name == name)).mappings().first()
    if row is None:
        raise AssistantError("invalid_api_key_request", f"there is no key named {name!r}")
    if changed:
        log.info("api key %s (%s) revoked", row["id"], name)
    return _info(dict(row))


def authenticate(engine: Engine, key: str) -> Caller | None:
    """The caller a live key acts as; None for an unknown or revoked key."""
    hashed = digest(key)
    now = clock.utcnow()
    with engine.begin() as conn:
        row = conn.execute(select(ApiKey.__table__).where(ApiKey.key_hash == hashed)).first()
        if row is None or not hmac.compare_digest(row.key_hash, hashed) or row.revoked_at:
            return None
        conn.execute(
            update(ApiKey)
            .where(
                ApiKey.id == row.id,
                or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - LAST_USE_EVERY),
            )
            .values(last_used_at=now)
        )
    return Caller(
        user_id=row.user_id,
        role=Role(row.role),
        scopes=frozenset(Scope(s) for s in row.scopes.split(",") if s),
        auth="api_key",
        principal=f"key:{row.name}",
    )
