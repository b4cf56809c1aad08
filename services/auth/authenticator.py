"""From a request's credentials to a `Caller`, in either AUTH_MODE.

| credential                         | local mode                 | entra mode         |
|------------------------------------|----------------------------|--------------------|
| `Authorization: Bearer tak_...` or `X-API-Key` | the key's caller | the key's caller   |
| `Authorization: Bearer <JWT>`      | a development token        | an Entra ID token  |
| `X-User-Id: N`                     | user N with their DB role  | ignored            |
| nothing                            | the operator (admin)       | 401                |

Local mode is only ever served on a loopback HOST (`services.settings.check_bind`), so "nothing"
means someone on this machine; but not a page of another site open in their browser (a request
whose `Origin` is not the server's own, e.g. the embeddable widget on a CORS_ORIGINS site): it
has to bring a credential, and `X-User-Id` from it is not honoured either. Every refusal is
logged with its reason; the client only learns that the credential was not accepted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import jwt
from sqlalchemy import Engine

from services.auth import api_keys
from services.auth.dev_tokens import DevTokenVerifier
from services.auth.entra import EntraVerifier
from services.auth.errors import AuthError, unauthenticated
from services.auth.sign_in import caller_for_entra
from services.errors import AssistantError
from services.identity import ROLE_SCOPES, Caller, Role, Scope, default_scopes
from services.settings import AuthMode, Settings, is_loopback

log = logging.getLogger(__name__)

OPERATOR = Caller(user_id=None, role=Role.ADMIN, auth="local", principal="operator")


class Authenticator:
    def __init__(self, settings: Settings, engine: Engine, lookup: Callable[[int | None], Caller]):
        """`lookup` finds a local user's caller by id (the role from the database)."""
        self.mode = settings.auth_mode
        self.engine = engine
        self.lookup = lookup
        self.operator_allowed = self.mode == AuthMode.LOCAL and is_loopback(settings.host)
        self.dev_tokens = DevTokenVerifier(settings.var_dir, settings.auth_leeway_s)
        self.entra = EntraVerifier(settings) if self.mode == AuthMode.ENTRA else None

    def authenticate(
        self,
        authorization: str | None,
        api_key: str | None,
        user_id: int | None,
        *,
        foreign_origin: bool = False,
    ) -> Caller:
        """`foreign_origin`: a browser sent the request from a page of another site."""
        token = _bearer(authorization)
        if api_key is not None or (token or "").startswith(api_keys.PREFIX):
            return self._api_key(api_key if api_key is not None else token or "")
        if token is not None:
            return self._entra(token) if self.entra is not None else self._dev_token(token)
        if foreign_origin:
            raise AuthError(
                "unauthenticated",
                "sign in: a page of another site must send Authorization: Bearer <token>",
            )
        if self.mode == AuthMode.LOCAL and user_id is not None:
            return self.lookup(user_id).model_copy(update={"principal": f"user:{user_id}"})
        if self.operator_allowed:
            return OPERATOR
        raise AuthError("unauthenticated", "sign in: send Authorization: Bearer <token>")

    def _api_key(self, key: str) -> Caller:
        caller = api_keys.authenticate(self.engine, key)
        if caller is None:
            log.info("refused api key %s...: unknown or revoked", key[:10])
            raise unauthenticated("the API key is not valid")
        return caller

    def _entra(self, token: str) -> Caller:
        try:
            identity = self.entra.verify(token)
        except jwt.PyJWKClientConnectionError as exc:  # the tenant's keys, not the token
            log.warning("signing keys unreachable: %s", exc)
            raise AssistantError(
                "identity_unavailable", "the identity provider's signing keys cannot be fetched"
            ) from None
        except jwt.PyJWTError as exc:
            log.info("refused bearer token: %s", exc)
            raise unauthenticated("the bearer token is not valid") from None
        return caller_for_entra(self.engine, identity)

    def _dev_token(self, token: str) -> Caller:
        try:
            claims = self.dev_tokens.verify(token)
            user_id, role = int(claims["sub"]), Role(claims.get("role", Role.CUSTOMER))
        except (jwt.PyJWTError, ValueError) as exc:
            log.info("refused development token: %s", exc)
            raise unauthenticated("the bearer token is not valid") from None
        self.lookup(user_id)  # the user must still exist
        named = frozenset(Scope(s) for s in str(claims.get("scp", "")).split() if s in _SCOPES)
        return Caller(
            user_id=user_id,
            role=role,
            scopes=named & ROLE_SCOPES[role] if "scp" in claims else default_scopes(role),
            auth="dev_token",
            principal=f"user:{user_id}",
        )


_SCOPES = {s.value for s in Scope}


def _bearer(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise unauthenticated("send credentials as Authorization: Bearer <token>")
    return value.strip()
