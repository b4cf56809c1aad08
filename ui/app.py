"""The Chainlit chat UI. Whoever uses it signs in first, as the platform's AUTH_MODE says: with
a password in local mode (users from the database; `trading-assist user password`), or with
Microsoft Entra ID in entra mode (a bearer token in the request's headers, as a proxy such as
App Service authentication puts it there, or Chainlit's Azure AD sign-in), checked by the same
`Authenticator` as the API. The signed-in user's role sets what they see: the welcome and
starter questions here, and, through the graph, the rows, documents and tools. Each step shows
as it happens: the SQL that ran, the rows, the answer. Loaded by Chainlit from this file; the
assistant comes from the hosting process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path

import chainlit as cl
from chainlit.oauth_providers import get_configured_oauth_providers

from graphs.answers import ChatEvent
from graphs.assistant import Assistant, shared
from retrieval.ingest import IngestRequest
from services.auth import passwords
from services.auth.authenticator import Authenticator
from services.errors import AssistantError
from services.identity import Caller, Role, Scope
from services.settings import AuthMode
from services.users import current_caller
from ui.welcome import load_welcome

log = logging.getLogger(__name__)

PRODUCT = "Trading AI Assist"
ICON = "/public/favicon.svg"


def _signed_in(caller: Caller, name: str) -> cl.User:
    """The session's user: the caller travels in Chainlit's signed session cookie."""
    return cl.User(
        identifier=name,
        display_name=name,
        metadata={"caller": caller.model_dump(mode="json")},
    )


@cache
def _authenticator() -> Authenticator:
    assistant = shared()
    return Authenticator(assistant.settings, assistant.engine, assistant.caller)


async def _entra_user(authorization: str | None) -> cl.User | None:
    """A person signed in with Entra ID: a valid token for a user (not an API key, not an
    application), checked and mapped to the platform's user exactly as the API does."""
    try:
        caller = await asyncio.to_thread(_authenticator().authenticate, authorization, None, None)
    except AssistantError as exc:
        log.info("chat UI sign-in refused: %s", exc.message)
        return None
    if caller.auth != "entra" or caller.user_id is None:
        log.info("chat UI sign-in refused: %s is not a person's Entra token", caller.principal)
        return None
    return _signed_in(caller, caller.principal)


if shared().settings.auth_mode == AuthMode.LOCAL:

    @cl.password_auth_callback
    async def password_sign_in(username: str, password: str) -> cl.User | None:
        caller = await asyncio.to_thread(passwords.sign_in, shared().engine, username, password)
        return None if caller is None else _signed_in(caller, username.strip().lower())

else:

    @cl.header_auth_callback
    async def header_sign_in(headers) -> cl.User | None:  # noqa: ANN001 - Starlette Headers
        return await _entra_user(headers.get("authorization"))

    if get_configured_oauth_providers():  # Chainlit's own Azure AD sign-in, when configured

        @cl.oauth_callback
        async def oauth_sign_in(
            provider_id: str,
            token: str,
            raw_user_data: dict,
            default_user: cl.User,
            id_token: str | None = None,
        ) -> cl.User | None:
            """The ID token (the hybrid flow's, `azure-ad-hybrid`) names the user by `oid`
            and carries the app roles; ENTRA_AUDIENCE must list the UI's client id."""
            if not id_token:
                log.info("chat UI sign-in through %s refused: no ID token", provider_id)
                return None
            return await _entra_user(f"Bearer {id_token}")


def _signed_in_caller(user: cl.User | None) -> dict | None:
    return ((user.metadata or {}) if user else {}).get("caller")


def _role(user: cl.User | None) -> Role:
    """The role the user signed in with (what to welcome them with); a customer's otherwise."""
    try:
        return Role((_signed_in_caller(user) or {}).get("role"))
    except ValueError:
        return Role.CUSTOMER


@cl.set_chat_profiles
async def chat_profiles(user: cl.User | None, language: str | None = None) -> list:
    """One profile: the product's icon and the welcome for the user's role, shown above the
    starters on an empty conversation (a sent message would hide the starters)."""
    welcome = load_welcome()[_role(user)].welcome
    return [cl.ChatProfile(name=PRODUCT, markdown_description=welcome, icon=ICON, default=True)]


@cl.set_starters
async def starters(user: cl.User | None, language: str | None = None) -> list[cl.Starter]:
    return [
        cl.Starter(label=s.label, message=s.message) for s in load_welcome()[_role(user)].starters
    ]


def _markdown_table(columns: list[dict], rows: list[list]) -> str:
    header = "| " + " | ".join(c["name"] for c in columns) + " |"
    rule = "|" + "---|" * len(columns)
    body = ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows[:50]]
    return "\n".join([header, rule, *body])


async def _caller(assistant: Assistant) -> Caller | str:
    """The signed-in user as the database has them now (a user locked since signing in is
    refused), or what is wrong."""
    signed_in = _signed_in_caller(cl.user_session.get("user"))
    if not signed_in:
        return "**Sign in first.**"
    try:
        caller = await asyncio.to_thread(
            current_caller, assistant.engine, Caller.model_validate(signed_in)
        )
    except AssistantError as exc:
        return f"**{exc.message}**"
    if not caller.allows(Scope.CHAT):
        return "**Your sign-in does not hold the chat scope.**"
    return caller


def _thread() -> str:
    """One chat session is one conversation, so follow-up questions work."""
    return f"chainlit-{cl.context.session.id}"


@cl.on_message
async def answer(message: cl.Message) -> None:
    assistant = shared()
    caller = await _caller(assistant)
    if isinstance(caller, str):
        await cl.Message(content=caller).send()
        return
    files = [e for e in message.elements or [] if getattr(e, "path", None)]
    if files:
        await cl.Message(content=await _ingest(assistant, caller, files)).send()
        if not message.content.strip():
            return
    await _show(assistant.stream(message.content, caller, _thread()))


@cl.action_callback("approve")
async def approve(action: cl.Action) -> None:
    await _decide(action, approve=True)


@cl.action_callback("reject")
async def reject(action: cl.Action) -> None:
    await _decide(action, approve=False)


async def _decide(action: cl.Action, *, approve: bool) -> None:
    """The person's answer to a pending action: the buttons go, the outcome is shown."""
    assistant = shared()
    caller = await _caller(assistant)
    if isinstance(caller, str):
        await cl.Message(content=caller).send()
        return
    await action.remove()
    action_id = action.payload.get("action_id")
    await _show(assistant.stream_resume(_thread(), caller, approve, action_id))


async def _show(events: AsyncIterator[ChatEvent]) -> None:
    """Each step as it happens; a pending action as its summary with Approve and Reject."""
    reply = cl.Message(content="")
    async for event in events:
        if event.event == "sql":
            async with cl.Step(name="SQL", type="tool", language="sql") as step:
                step.output = event.data["sql"]
        elif event.event == "rows" and event.data["rows"]:
            async with cl.Step(name="Rows", type="tool") as step:
                step.output = _markdown_table(event.data["columns"], event.data["rows"])
        elif event.event == "citations":
            async with cl.Step(name="Sources", type="retrieval") as step:
                step.output = "\n".join(
                    f"[{i}] {c.get('title', '')} {c.get('section') or ''}".rstrip()
                    for i, c in enumerate(event.data["citations"], 1)
                )
        elif event.event == "answer":
            reply.content = event.data["answer"]
        elif event.event == "confirm":
            pending = event.data["pending_action"]
            payload = {"action_id": pending["id"]}
            reply.actions = [
                cl.Action(name="approve", label="Approve", payload=payload),
                cl.Action(name="reject", label="Reject", payload=payload),
            ]
        elif event.event == "done" and event.data.get("pending_action"):
            reply.content = event.data["answer"]
        elif event.event == "error":
            reply.content = f"**Sorry:** {event.data['message']}"
    await reply.send()


async def _ingest(assistant: Assistant, caller: Caller, files: list) -> str:
    """Add the attached files to the documents, one line per file."""
    if assistant.documents is None:
        return "Documents cannot be added here: no document library is set up."
    lines = []
    for element in files:
        request = IngestRequest(filename=element.name, source=f"upload:{element.name}")
        data = await asyncio.to_thread(Path(element.path).read_bytes)
        try:
            result = await asyncio.to_thread(assistant.documents.add, data, request, caller)
        except AssistantError as exc:
            lines.append(f"- **{element.name}**: not added: {exc.message}")
            continue
        status = result.status.value.replace("_", " ")
        lines.append(
            f"- **{element.name}**: {status} (document {result.document_id}, "
            f"version {result.version}, {result.chunks} passages)"
        )
    return "\n".join(lines)
