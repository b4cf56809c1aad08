"""Passwords for the chat UI's sign-in in local mode, kept as scrypt hashes (hashlib, OpenSSL).

A hash reads `scrypt$<log2 n>$<r>$<p>$<salt>$<key>` (salt and key in base64), so the cost can be
raised later while older hashes still verify. The cost is one of OWASP's scrypt settings
(n=2^14, r=8, p=5: 16 MiB, about 0.4 s here), slow enough to make guessing expensive and quick
enough for a sign-in. A user without a password, or who is not active, cannot sign in; an
unknown email costs the same time as a wrong password, so the answer does not tell which.

>>> stored = hash_password("correct horse battery")
>>> stored.startswith("scrypt$14$8$5$"), verify("correct horse battery", stored)
(True, True)
>>> verify("Correct horse battery", stored), verify("x", "not a hash")
(False, False)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from functools import cache

from sqlalchemy import Engine, func, insert, select, update

from services import clock
from services.db.models import User, UserPassword
from services.errors import AssistantError
from services.identity import Caller, Role

log = logging.getLogger(__name__)

LOG2_N, R, P = 14, 8, 5
MIN_LENGTH, MAX_LENGTH = 10, 1024
_MAXMEM = 64 * 1024 * 1024  # above the 128 * r * n bytes scrypt needs, for raised costs too


def _scrypt(password: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=2**log2_n, r=r, p=p, maxmem=_MAXMEM, dklen=32
    )


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = _scrypt(password, salt, LOG2_N, R, P)
    b64 = base64.b64encode
    return f"scrypt${LOG2_N}${R}${P}${b64(salt).decode()}${b64(key).decode()}"


def verify(password: str, stored: str) -> bool:
    """Whether `password` is the one `stored` was made from (compared in constant time)."""
    try:
        scheme, log2_n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key, validate=True)
        actual = _scrypt(
            password, base64.b64decode(salt, validate=True), int(log2_n), int(r), int(p)
        )
    except ValueError:  # not a hash of ours: refuse rather than fail the sign-in
        return False
    return hmac.compare_digest(actual, expected)


@cache
def _decoy() -> str:
    """A hash to verify against for an unknown email (made once, on the first such sign-in)."""
    return hash_password(secrets.token_urlsafe(16))


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise AssistantError("weak_password", f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise AssistantError("weak_password", f"a password has at most {MAX_LENGTH} characters")


def generate() -> str:
    """A random password of 20 URL-safe characters (120 bits)."""
    return secrets.token_urlsafe(15)


def set_password(engine: Engine, user_id: int, password: str) -> None:
    """Set (or replace) a user's password; the password itself is never stored or logged."""
    check_strength(password)
    hashed = hash_password(password)
    now = clock.utcnow()
    with engine.begin() as conn:
        if conn.execute(select(User.id).where(User.id == user_id)).first() is None:
            raise AssistantError("unknown_user", f"there is no user with id {user_id}")
        changed = conn.execute(
            update(UserPassword)
            .where(UserPassword.user_id == user_id)
            .values(password_hash=hashed, updated_at=now)
        ).rowcount
        if not changed:
            conn.execute(
                insert(UserPassword).values(user_id=user_id, password_hash=hashed, updated_at=now)
            )
    log.info("password of user %s %s", user_id, "replaced" if changed else "set")


def sign_in(engine: Engine, email: str, password: str) -> Caller | None:
    """The caller an email and password sign in as; None, after the same work, otherwise."""
    with engine.connect() as conn:
        row = conn.execute(
            select(User.id, User.role, User.status, UserPassword.password_hash)
            .join(UserPassword, UserPassword.user_id == User.id)
            .where(func.lower(User.email) == email.strip().lower())
        ).first()
    if row is None:
        verify(password, _decoy())
        log.info("sign-in refused: no user with a password has that email")
        return None
    if not verify(password, row.password_hash):
        log.info("sign-in of user %s refused: wrong password", row.id)
        return None
    if row.status != "active":
        log.info("sign-in of user %s refused: the user is %s", row.id, row.status)
        return None
    return Caller(user_id=row.id, role=Role(row.role), auth="local", principal=f"user:{row.id}")
