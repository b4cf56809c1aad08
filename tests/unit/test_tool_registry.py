"""The tool registry's own rules: unique names, roles named (deny by default), descriptions for
the model, arguments validated, writes confirmed, and one audit record per call."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, Field
from sqlalchemy import create_engine, select

from services.db.models import AuditLog, Base
from services.identity import Caller, Role
from tools.registry import ToolContext, ToolError, ToolInput, ToolKind, ToolRegistry
from tools.tool_set import platform_tools


class NoteIn(ToolInput):
    text: str = Field(max_length=20, description="The note.")


class NoteOut(BaseModel):
    saved: str = Field(description="What was saved.")


class Services:
    def __init__(self):
        self.engine = create_engine("sqlite://")
        Base.metadata.create_all(self.engine)


def _registry() -> ToolRegistry:
    registry = ToolRegistry()

    @registry.tool(roles={Role.CUSTOMER}, kind=ToolKind.WRITE)
    def save_note(ctx: ToolContext, args: NoteIn) -> NoteOut:
        """Save a note."""
        return NoteOut(saved=f"{ctx.caller.user_id}:{args.text}")

    return registry


def _audit(services: Services) -> list[tuple[str, str, dict]]:
    with services.engine.connect() as conn:
        rows = conn.execute(select(AuditLog.action, AuditLog.outcome, AuditLog.detail)).all()
    return [(a, o, json.loads(d)) for a, o, d in rows]


def test_a_duplicate_name_and_a_tool_without_roles_are_refused():
    registry = _registry()
    with pytest.raises(ValueError, match="already registered"):

        @registry.tool(roles={Role.ADMIN}, name="save_note")
        def other(ctx: ToolContext, args: NoteIn) -> NoteOut:
            """Another."""

    with pytest.raises(ValueError, match="names no role"):

        @registry.tool(roles=())
        def nobody(ctx: ToolContext, args: NoteIn) -> NoteOut:
            """Nobody may."""


class Bare(ToolInput):
    text: str


def test_fields_and_tools_must_say_what_they_are():
    with pytest.raises(TypeError, match="without a description: text"):

        @ToolRegistry().tool(roles={Role.ADMIN})
        def bare(ctx: ToolContext, args: Bare) -> NoteOut:
            """Bare."""

    with pytest.raises(TypeError, match="docstring"):

        @ToolRegistry().tool(roles={Role.ADMIN})
        def silent(ctx: ToolContext, args: NoteIn) -> NoteOut:
            return NoteOut(saved="")


async def test_a_call_is_checked_confirmed_run_and_audited():
    registry, services = _registry(), Services()
    customer = ToolContext(caller=Caller(user_id=7), services=services)
    with pytest.raises(ToolError) as unconfirmed:
        await registry.call(customer, "save_note", {"text": "hi"})
    assert unconfirmed.value.code == "confirmation_required"
    result = await registry.call(customer, "save_note", {"text": "hi"}, confirmed=True)
    assert result.output == {"saved": "7:hi"} and result.text == "saved: 7:hi"

    staff = ToolContext(caller=Caller(role=Role.ADMIN), services=services)
    with pytest.raises(ToolError) as forbidden:
        await registry.call(staff, "save_note", {"text": "hi"}, confirmed=True)
    assert forbidden.value.code == "tool_forbidden"

    with pytest.raises(ToolError) as invalid:
        await registry.call(customer, "save_note", {"text": "x" * 21, "user_id": 8})
    assert "user_id is not an argument" in invalid.value.message
    assert "at most 20 characters" in invalid.value.message

    outcomes = [(a, o, d.get("code")) for a, o, d in _audit(services)]
    assert outcomes == [
        ("tool.save_note", "refused", "confirmation_required"),
        ("tool.save_note", "ok", None),
        ("tool.save_note", "refused", "forbidden"),
        ("tool.save_note", "refused", "invalid_arguments"),
    ]
    assert _audit(services)[1][2]["arguments"] == {"text": "hi"}


def test_the_platform_tools_publish_schemas_per_role():
    tools = platform_tools()
    customer = {s["name"] for s in tools.schemas(Caller(user_id=16))}
    staff = {s["name"] for s in tools.schemas(Caller(role=Role.SUPPORT))}
    assert "ingest_document" in staff and "ingest_document" not in customer
    assert {"search_documents", "get_document"} <= customer
    schema = next(
        s for s in tools.schemas(Caller(role=Role.ADMIN)) if s["name"] == "ingest_document"
    )
    assert schema["needs_confirmation"] and schema["kind"] == "write"
    assert schema["parameters"]["additionalProperties"] is False
