"""Development tokens: RS256 bearer tokens minted on this machine, so the HTTP surface can be
exercised with real bearer tokens on a laptop (`trading-assist token`). The signing key lives
under VAR_DIR, readable by its owner only; whoever can read it can act as anyone, which is why
these tokens are accepted in local mode alone.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from services import clock
from services.auth.private_files import read_or_create
from services.identity import Role, Scope

ISSUER = "trading-assist-dev"
AUDIENCE = "trading-assist"


def key_path(var_dir: Path) -> Path:
    return var_dir / "auth" / "dev-token-key.pem"


def _new_key() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _load(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} does not hold an RSA key")
    return key


def _kid(key: rsa.RSAPrivateKey) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()[:16]


def mint(
    var_dir: Path,
    user_id: int,
    role: Role,
    minutes: int = 60,
    scopes: frozenset[Scope] | None = None,
) -> str:
    """A signed token for `user_id` acting as `role`; the key is made on first use."""
    path = key_path(var_dir)
    read_or_create(path, _new_key)
    key = _load(path)
    now = clock.now()
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user_id),
        "role": role.value,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=minutes),
    }
    if scopes is not None:
        claims["scp"] = " ".join(sorted(scopes))
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": _kid(key)})


class DevTokenVerifier:
    """Checks tokens minted by `mint` against the key under VAR_DIR (read once it exists)."""

    def __init__(self, var_dir: Path, leeway_s: int):
        self.path = key_path(var_dir)
        self.leeway_s = leeway_s
        self._public: rsa.RSAPublicKey | None = None

    def _key(self) -> rsa.RSAPublicKey | None:
        if self._public is None and self.path.exists():
            self._public = _load(self.path).public_key()
        return self._public

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims; `jwt.InvalidTokenError` when it is not one of ours or not valid."""
        key = self._key()
        if key is None:
            raise jwt.InvalidTokenError("no development token has been issued on this machine")
        return jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=self.leeway_s,
            options={"require": ["exp", "nbf", "iss", "aud", "sub"]},
        )
