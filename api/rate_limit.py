"""Requests counted per principal and per route with `limits`: in Redis when REDIS_URL is set
(every API process behind a load balancer shares the count), in this process's memory
otherwise. Over the limit: 429 with Retry-After, before the route runs."""

from __future__ import annotations

import logging
import math

from limits import RateLimitItem, parse_many
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from limits.storage import storage_from_string

from services import clock
from services.auth.errors import AuthError
from services.identity import Caller
from services.settings import Settings

log = logging.getLogger(__name__)


class RateLimiter:
    def __init__(self, settings: Settings):
        uri = (
            settings.redis_url.replace("redis://", "async+redis://", 1)
            if settings.redis_url
            else "async+memory://"
        )
        options = {"key_prefix": settings.rate_limit_namespace} if settings.redis_url else {}
        self.storage = storage_from_string(uri, **options)
        strategy = (
            MovingWindowRateLimiter
            if settings.rate_limit_strategy == "moving-window"
            else FixedWindowRateLimiter
        )
        self.limiter = strategy(self.storage)
        self.limits = {
            "default": parse_many(settings.rate_limit),
            "chat": parse_many(settings.rate_limit_chat),
        }
        self.failures = parse_many(settings.rate_limit_auth_failures)
        self.sign_in = {
            "account": parse_many(settings.rate_limit_sign_in_account),
            "client": parse_many(settings.rate_limit_sign_in_client),
        }

    async def hit(self, caller: Caller, route: str, kind: str = "default") -> None:
        """Count one request; refuse it (429) when any of the route's limits is spent."""
        who = caller.principal or f"{caller.role}:{caller.user_id}"
        for item in self.limits[kind]:
            if not await self.limiter.hit(item, who, route):
                raise self._refusal(item, await self._retry_after(item, who, route), who, route)

    async def check_client(self, client: str) -> None:
        """Refuse (429) every request from a client address whose failed sign-ins spent the
        budget, valid credentials included: guessing keys or tokens stops paying off."""
        for item in self.failures:
            if not await self.limiter.test(item, client, "auth-failures"):
                retry_after = await self._retry_after(item, client, "auth-failures")
                raise self._refusal(item, retry_after, client, "failed sign-ins")

    async def failed(self, client: str) -> None:
        """Count one refused credential from a client address."""
        for item in self.failures:
            await self.limiter.hit(item, client, "auth-failures")

    async def sign_in_wait(self, account: str, client: str) -> int:
        """Seconds until a chat-UI sign-in of `account` from `client` may be tried again: 0
        while neither the account's nor the address's failed sign-ins spent their budget."""
        wait = 0
        for kind, who in (("account", account), ("client", client)):
            for item in self.sign_in[kind]:
                if not await self.limiter.test(item, who, f"sign-in-{kind}"):
                    wait = max(wait, await self._retry_after(item, who, f"sign-in-{kind}"))
        return wait

    async def failed_sign_in(self, account: str, client: str) -> None:
        """Count one refused chat-UI sign-in against the account and the address."""
        for kind, who in (("account", account), ("client", client)):
            for item in self.sign_in[kind]:
                await self.limiter.hit(item, who, f"sign-in-{kind}")

    async def _retry_after(self, item: RateLimitItem, who: str, route: str) -> int:
        stats = await self.limiter.get_window_stats(item, who, route)
        return max(1, math.ceil(stats.reset_time - clock.now().timestamp()))

    @staticmethod
    def _refusal(item: RateLimitItem, retry_after: int, who: str, route: str) -> AuthError:
        log.info("rate limited: %s on %s (%s)", who, route, item)
        return AuthError(
            "rate_limited",
            f"too many requests ({item}); try again in {retry_after} s",
            {"Retry-After": str(retry_after)},
        )

    async def ping(self) -> bool:
        return await self.storage.check()
