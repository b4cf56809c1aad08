"""The Chainlit chat UI. It shows each step as it happens: the SQL that ran, the rows, the
answer. Loaded by Chainlit from this file; the assistant comes from the hosting process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import chainlit as cl
from chainlit.input_widget import TextInput

from graphs.assistant import Assistant, shared
from retrieval.ingest import IngestRequest
from services.errors import AssistantError
from services.identity import Caller

WELCOME = (
    "Ask me about accounts, orders, positions, transactions, payments, subscriptions, KYC "
    "status or the firm's documents. Staff can attach a file to add it to the documents (staff "
    "only until its access is changed). Open the settings to act as a demo user; otherwise you "
    "are the operator."
)


@cl.on_chat_start
async def start() -> None:
    await cl.ChatSettings(
        [TextInput(id="user_id", label="Act as user id (demo)", initial="", placeholder="operator")]
    ).send()
    await cl.Message(content=WELCOME).send()


@cl.on_settings_update
async def settings_update(values: dict) -> None:
    cl.user_session.set("user_id", (values.get("user_id") or "").strip())


def _markdown_table(columns: list[dict], rows: list[list]) -> str:
    header = "| " + " | ".join(c["name"] for c in columns) + " |"
    rule = "|" + "---|" * len(columns)
    body = ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows[:50]]
    return "\n".join([header, rule, *body])


@cl.on_message
async def answer(message: cl.Message) -> None:
    assistant = shared()
    raw_user = cl.user_session.get("user_id") or ""
    try:
        caller = assistant.caller(int(raw_user) if raw_user else None)
    except ValueError:
        await cl.Message(content="The user id in the settings must be a number.").send()
        return
    except AssistantError as exc:
        await cl.Message(content=f"**{exc.message}**").send()
        return
    files = [e for e in message.elements or [] if getattr(e, "path", None)]
    if files:
        await cl.Message(content=await _ingest(assistant, caller, files)).send()
        if not message.content.strip():
            return
    reply = cl.Message(content="")
    # one chat session is one conversation, so follow-up questions work
    thread_id = f"chainlit-{cl.context.session.id}"
    async for event in assistant.stream(message.content, caller, thread_id):
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
