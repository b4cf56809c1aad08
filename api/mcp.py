"""The tool registry over MCP (the official `mcp` SDK): streamable HTTP at `/mcp`, and stdio for
`trading-assist mcp`.

An MCP client lists the tools its caller may use (each with the JSON schema of its input model)
and calls them with the same checks, audit and confirmation as everywhere else: a read answers;
a write answers with the pending action, which the client approves or rejects by calling
`confirm_action` (the person's yes, relayed). Over HTTP the caller is the request's credential,
authenticated like every route; over stdio it is the user the command was started for.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import mcp.types as types
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from graphs.assistant import Assistant
from graphs.tool_calls import call_tool
from services.errors import AssistantError
from services.identity import Caller
from services.identity import Scope as Grant

CONFIRM = "confirm_action"


class ConfirmInput(BaseModel):
    thread_id: str = Field(description="The thread_id the pending action came with.")
    action_id: str = Field(description="The pending action's id.")
    approve: bool = Field(description="True carries it out; false cancels it.")


def build_server(assistant: Assistant, caller_of: Callable[[], Caller]) -> Server:
    """An MCP server over `assistant`'s tools; `caller_of` says who the current request is."""
    server: Server = Server("trading-assist", instructions=__doc__)

    @server.list_tools()
    async def list_tools() -> list[types.Tool]:
        caller = caller_of()
        tools = [
            types.Tool(
                name=spec.name,
                description=spec.description,
                inputSchema=spec.input_model.model_json_schema(),
                annotations=types.ToolAnnotations(readOnlyHint=not spec.confirm),
            )
            for spec in assistant.tools.available(caller)
        ]
        if caller.allows(Grant.TOOLS_WRITE):
            tools.append(
                types.Tool(
                    name=CONFIRM,
                    description="Approve or reject an action a write tool is waiting on.",
                    inputSchema=ConfirmInput.model_json_schema(),
                )
            )
        return tools

    @server.call_tool(validate_input=False)  # the registry validates, with clearer messages
    async def call(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        caller = caller_of()
        try:
            if name == CONFIRM:
                decision = ConfirmInput.model_validate(arguments)
                answer = await assistant.resume(
                    decision.thread_id,
                    caller,
                    approve=decision.approve,
                    action_id=decision.action_id,
                )
                body = {"answer": answer.answer, "result": answer.result}
            else:
                outcome = await call_tool(assistant, caller, name, arguments)
                body = outcome.model_dump(mode="json", exclude_none=True)
                if outcome.result is not None:
                    body = outcome.result.output
        except AssistantError as exc:
            return _error(exc.message)
        except ValueError as exc:  # ConfirmInput's own validation
            return _error(str(exc))
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=json.dumps(body, default=str))],
            structuredContent=body,
        )

    return server


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=message)], isError=True
    )


class McpEndpoint:
    """`/mcp` as an ASGI app: each request is authenticated like any route, then handed to a
    stateless streamable-HTTP session (any API worker can serve any request)."""

    def __init__(self, assistant: Assistant, authenticate: Callable[[Request], Any]):
        self.authenticate = authenticate
        self.server = build_server(assistant, self._caller)
        self.sessions = StreamableHTTPSessionManager(self.server, stateless=True)

    def _caller(self) -> Caller:
        request = self.server.request_context.request
        return request.scope["state"]["caller"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            caller = await self.authenticate(request)
        except AssistantError as exc:
            body = json.dumps({"error": exc.body().model_dump()}).encode()
            headers = [(b"content-type", b"application/json")]
            if exc.status == 401:
                headers.append((b"www-authenticate", b"Bearer"))
            await send({"type": "http.response.start", "status": exc.status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        scope.setdefault("state", {})["caller"] = caller
        await self.sessions.handle_request(scope, receive, send)
