"""A tool called by another system (REST, MCP) rather than chosen by the chat's model.

The registry checks the role, validates and audits as always; the credential's scopes decide
whether the caller may read (`tools:read`) or write (`tools:write`). A read runs at once. A
write called with a person's credential waits, in a thread of its own, for that person's yes
(the same pause the chat makes); a service key holding `tools:write` acts at once, with the
`Idempotency-Key` it sends, so its retried request never acts twice.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from graphs.assistant import Assistant
from services.auth.errors import AuthError
from services.errors import AssistantError
from services.identity import Caller, Role, Scope
from tools.registry import ToolContext, ToolResult


class ToolCallOutcome(BaseModel):
    result: ToolResult | None = Field(None, description="The tool's output, when it ran.")
    pending_action: dict[str, Any] | None = Field(
        None, description="A write waiting for the caller's yes (resume the thread)."
    )
    thread_id: str | None = Field(None, description="The thread the pending action waits in.")


async def call_tool(
    assistant: Assistant,
    caller: Caller,
    name: str,
    arguments: dict[str, Any],
    idempotency_key: str | None = None,
) -> ToolCallOutcome:
    spec = assistant.tools.get(name)
    scope = Scope.TOOLS_WRITE if spec.confirm else Scope.TOOLS_READ
    if not caller.allows(scope):
        raise AuthError("forbidden", f"calling {name} needs the {scope} scope")
    if not spec.confirm:
        ctx = ToolContext(caller=caller, services=assistant.tool_services)
        return ToolCallOutcome(result=await assistant.tools.call(ctx, name, arguments))
    if caller.role is Role.SERVICE:
        if not idempotency_key:
            raise AssistantError(
                "idempotency_key_required",
                f"{name} changes data: send an Idempotency-Key header so a retry acts once",
            )
        ctx = ToolContext(
            caller=caller, services=assistant.tool_services, idempotency_key=idempotency_key
        )
        result = await assistant.tools.call(ctx, name, arguments, confirmed=True)
        return ToolCallOutcome(result=result)
    # refused here as invalid (422) rather than inside the graph, whose checkpoint could not
    # even store some invalid arguments (an integer past 64 bits)
    ctx = ToolContext(caller=caller, services=assistant.tool_services)
    valid = assistant.tools.validate(ctx, name, arguments).model_dump(
        mode="json", exclude_unset=True
    )
    answer = await assistant.propose(name, valid, caller)
    if answer.pending_action is None:  # the preview refused it: say why, as the chat would
        raise AssistantError("action_refused", answer.answer)
    return ToolCallOutcome(pending_action=answer.pending_action, thread_id=answer.thread_id)
