"""Microsoft Entra ID access tokens, checked with PyJWT against the tenant's published keys.

Only RS256 is accepted (a token saying `alg: none`, or HS256 signed with the public key, is
refused before any key is looked up); issuer, audience, tenant, expiry and not-before are all
required. Keys come from the tenant's JWKS through `PyJWKClient`, which caches the set and, for
a key id it does not know (the tenant rotated its keys), fetches the set again at most once per
ENTRA_JWKS_COOLDOWN_S.
"""

from __future__ import annotations

import logging

import jwt
from pydantic import BaseModel, Field

from services.identity import ROLE_SCOPES, Role, Scope, default_scopes
from services.settings import Settings

log = logging.getLogger(__name__)

# App roles defined on the API's app registration, most privileged first.
APP_ROLES: dict[str, Role] = {
    "Admin": Role.ADMIN,
    "Support": Role.SUPPORT,
    "Service": Role.SERVICE,
    "Customer": Role.CUSTOMER,
}


class EntraIdentity(BaseModel, frozen=True):
    """What the platform takes from a valid token."""

    oid: str = Field(description="The user's or the application's object id in the tenant.")
    role: Role
    scopes: frozenset[Scope]
    username: str = Field("", description="preferred_username, usually an email address.")
    name: str = ""
    app_id: str = Field("", description="The calling application (azp or appid).")


def role_of(app_roles: list[str]) -> Role:
    """The most privileged platform role among the token's app roles; none: a customer.

    >>> role_of(["Customer", "Support"]), role_of([])
    (<Role.SUPPORT: 'support'>, <Role.CUSTOMER: 'customer'>)
    """
    for app_role, role in APP_ROLES.items():
        if app_role in app_roles:
            return role
    return Role.CUSTOMER


def scopes_of(role: Role, named: list[str]) -> frozenset[Scope]:
    """The scopes a token may use: those it names (in `scp` or as app roles; `tools.read` is
    `tools:read`) within what its role may hold. A user's token that names none of the
    platform's scopes (e.g. only `access_as_user`) gets its role's defaults; a service gets
    only what it names.

    >>> sorted(scopes_of(Role.CUSTOMER, ["chat", "admin"]))
    [<Scope.CHAT: 'chat'>]
    >>> scopes_of(Role.SERVICE, ["access_as_user"])
    frozenset()
    """
    values = {s.value for s in Scope}
    granted = {Scope(n.replace(".", ":")) for n in named if n.replace(".", ":") in values}
    if not granted:
        return default_scopes(role)
    return frozenset(granted) & ROLE_SCOPES[role]


class EntraVerifier:
    def __init__(self, settings: Settings):
        self.issuer = settings.entra_issuer
        self.audience = [a.strip() for a in settings.entra_audience.split(",") if a.strip()]
        self.tenant_id = settings.entra_tenant_id
        self.leeway_s = settings.auth_leeway_s
        self.keys = jwt.PyJWKClient(
            settings.entra_jwks_url,
            cache_jwk_set=True,
            lifespan=24 * 3600,
            timeout=10,
            cooldown_duration=settings.entra_jwks_cooldown_s,
        )

    def verify(self, token: str) -> EntraIdentity:
        """The identity in a valid token; `jwt.PyJWTError` (with the reason) otherwise."""
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "RS256":
            raise jwt.InvalidAlgorithmError(f"algorithm {header.get('alg')!r} is not accepted")
        key = self.keys.get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=self.audience,
            issuer=self.issuer,
            leeway=self.leeway_s,
            options={"require": ["exp", "nbf", "iss", "aud", "tid"]},
        )
        if claims["tid"] != self.tenant_id:
            raise jwt.InvalidTokenError(f"token is for tenant {claims['tid']}, not this one")
        if not claims.get("oid"):
            raise jwt.MissingRequiredClaimError("oid")
        app_roles = list(claims.get("roles") or [])
        role = role_of(app_roles)
        named = str(claims.get("scp") or "").split() + app_roles
        return EntraIdentity(
            oid=claims["oid"],
            role=role,
            scopes=scopes_of(role, named),
            username=str(claims.get("preferred_username") or ""),
            name=str(claims.get("name") or ""),
            app_id=str(claims.get("azp") or claims.get("appid") or ""),
        )
