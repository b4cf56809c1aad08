"""A tenant's key endpoint on 127.0.0.1: a tiny threaded HTTP server serving a JWKS made from
the tests' own RSA keys, counting how often it is fetched, and the tokens those keys sign."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from services import clock

TENANT = "11111111-2222-3333-4444-555555555555"
AUDIENCE = "api://trading-assist"
ISSUER = f"https://login.microsoftonline.com/{TENANT}/v2.0"


class SigningKey:
    def __init__(self, kid: str):
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        return {
            **json.loads(RSAAlgorithm.to_jwk(self.private.public_key())),
            "kid": self.kid,
            "use": "sig",
            "alg": "RS256",
        }

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


class JwksServer:
    """Serves `keys` at /keys; `fetches` counts the requests."""

    def __init__(self, keys: list[SigningKey]):
        self.keys = keys
        self.fetches = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                outer.fetches += 1
                body = json.dumps({"keys": [k.jwk() for k in outer.keys]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/keys"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> JwksServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def claims(**changes: Any) -> dict[str, Any]:
    """A valid user token's claims for the test tenant; `changes` override or (None) remove."""
    now = clock.now()
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "tid": TENANT,
        "oid": "0a1b2c3d-0000-4000-8000-000000000001",
        "preferred_username": "new.customer@example.com",
        "name": "New Customer",
        "scp": "access_as_user",
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=30),
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: SigningKey, payload: dict[str, Any], kid: str | None = None) -> str:
    return jwt.encode(payload, key.private, algorithm="RS256", headers={"kid": kid or key.kid})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segments(header: dict[str, Any], payload: dict[str, Any]) -> str:
    encoded = jwt.encode(payload, "x" * 32, algorithm="HS256")  # for its claim encoding only
    body = encoded.split(".")[1]
    return f"{_b64(json.dumps(header).encode())}.{body}"


def unsigned(payload: dict[str, Any], kid: str) -> str:
    """`alg: none`: no signature at all."""
    return _segments({"alg": "none", "typ": "JWT", "kid": kid}, payload) + "."


def hs256_with_public_key(key: SigningKey, payload: dict[str, Any]) -> str:
    """The key-confusion attack: HMAC keyed with the (public) RSA key's PEM."""
    signing_input = _segments({"alg": "HS256", "typ": "JWT", "kid": key.kid}, payload)
    mac = hmac.new(key.public_pem(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"
