"""Password guessing at the chat UI's sign-in, slowed per account and per client address.

Chainlit's login route (`POST <ui path>/login`) hands the form to the UI's password callback,
which knows neither the client's address nor how often it has been wrong. This middleware sits
in front of that route: it reads the account from the form, refuses the sign-in (429 with
`Retry-After`, and a log line) while the account's or the address's failed sign-ins have spent
their budget (`RATE_LIMIT_SIGN_IN_ACCOUNT`, `RATE_LIMIT_SIGN_IN_CLIENT`), the right password
included, and counts each sign-in Chainlit refuses (its 401). The counts live where the API's
rate limits do (Redis when configured), so every process behind a load balancer shares them.
The sign-in page shows a 429 in the product's words (`ui/translations.yaml`).
"""

from __future__ import annotations

import hashlib
import json
import logging

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.rate_limit import RateLimiter

log = logging.getLogger(__name__)


class SignInLimit:
    def __init__(self, app: ASGIApp, *, limiter: RateLimiter, path: str):
        self.app = app
        self.limiter = limiter
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        body = await _read(receive)
        replay = _replaying(body)
        form = await Request(scope, _replaying(body)).form()
        account = str(form.get("username") or "").strip().lower()
        client = scope["client"][0] if scope.get("client") else "unknown"
        who = f"account {_label(account)} from {client}"
        if wait := await self.limiter.sign_in_wait(account, client):
            log.warning("chat UI sign-in of %s refused: too many failed sign-ins", who)
            await _refuse(send, wait)
            return
        status = 0

        async def watching_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, replay, watching_send)
        if status == 401:
            await self.limiter.failed_sign_in(account, client)
            log.info("chat UI sign-in of %s failed", who)


async def _read(receive: Receive) -> bytes:
    """The whole body (BodyLimit, outside, has bounded it already)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _label(account: str) -> str:
    """An account named in the log without its email: the same account, the same label."""
    return hashlib.sha256(account.encode()).hexdigest()[:12]


async def _refuse(send: Send, retry_after: int) -> None:
    detail = f"too many failed sign-ins; try again in {retry_after} s"
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry_after).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
