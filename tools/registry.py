"""One registry of typed tools, shared by every surface (chat, REST, MCP, admin).

A tool is a plain function `fn(ctx, args) -> output` whose `args` and output are pydantic
models; its docstring is what the model and other systems read. The registry is the only way a
tool runs: it validates the arguments (unknown fields are refused, so a model or a client that
passes a `user_id` or an `owner` is told the caller comes from the sign-in), checks the caller's
role (deny by default: a tool names the roles it allows), writes one audit record per call (who,
tool, arguments, outcome, duration) and hands out JSON schemas generated from the models.

Writes that need confirmation are not run by `call` until the caller has said yes: `preview`
states what would happen, and the surfaces (the chat graph's interrupt, the REST endpoint's
pending action) come back with `confirmed=True`.

>>> from pydantic import BaseModel, Field
>>> class EchoIn(ToolInput):
...     text: str = Field(description="What to say back.")
>>> class EchoOut(BaseModel):
...     text: str = Field(description="The same text.")
>>> registry = ToolRegistry()
>>> @registry.tool(roles={Role.CUSTOMER})
... def echo(ctx: ToolContext, args: EchoIn) -> EchoOut:
...     '''Say the text back.'''
...     return EchoOut(text=args.text)
>>> [spec.name for spec in registry.available(Caller(user_id=1))]
['echo']
>>> registry.available(Caller(role=Role.ADMIN))
[]
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services import audit
from services.errors import AssistantError
from services.identity import Caller, Role
from services.llm.privacy import Sensitivity
from services.telemetry import span

log = logging.getLogger(__name__)


class ToolKind(StrEnum):
    READ = "read"  # looks, changes nothing
    WRITE = "write"  # changes the caller's accounts, money, documents or messages


class ToolInput(BaseModel):
    """Base of every tool's arguments: unknown fields are refused, so an argument the tool does
    not declare (another user's id, say) is an error, never silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Preview(BaseModel):
    """What a write would do, stated before it is done."""

    summary: str = Field(description="One sentence a person can say yes or no to.")
    details: dict[str, Any] = Field(
        default_factory=dict, description="The figures behind the summary."
    )
    problems: list[str] = Field(
        default_factory=list, description="Why it cannot be done as asked; empty when it can."
    )

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class ToolContext:
    """Who is calling and with what: the caller from the authenticated request (never from
    arguments), the services the tools are faces of, and the idempotency key of a confirmed
    write so a retried request never acts twice."""

    caller: Caller
    services: Any
    idempotency_key: str | None = None


ToolFn = Callable[[ToolContext, BaseModel], BaseModel]
PreviewFn = Callable[[ToolContext, BaseModel], Preview]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    input_model: type[BaseModel]
    output_model: type[BaseModel]
    kind: ToolKind
    roles: frozenset[Role]
    confirm: bool
    sensitivity: Sensitivity
    fn: ToolFn = field(repr=False)
    preview_fn: PreviewFn | None = field(default=None, repr=False)

    def json_schema(self) -> dict[str, Any]:
        """The tool as other systems see it: OpenAI's function format plus our metadata."""
        return {
            "name": self.name,
            "description": self.description,
            "parameters": self.input_model.model_json_schema(),
            "output": self.output_model.model_json_schema(),
            "kind": self.kind.value,
            "roles": sorted(self.roles),
            "needs_confirmation": self.confirm,
            "sensitivity": self.sensitivity.value,
        }


class ToolResult(BaseModel):
    """A finished call: the tool's typed output as JSON, and how long it took."""

    model_config = ConfigDict(frozen=True)

    tool: str
    output: dict[str, Any] = Field(description="The tool's typed output, as JSON.")
    text: str = Field(description="The output told to a person.")
    elapsed_ms: float


class ToolError(AssistantError):
    """A tool call refused or failed; the code says which, the message says why."""


class ToolRegistry:
    def __init__(self) -> None:
        self._tools: dict[str, ToolSpec] = {}

    # -- registering -----------------------------------------------------------------------
    def tool(
        self,
        *,
        roles: Iterable[Role],
        kind: ToolKind = ToolKind.READ,
        confirm: bool | None = None,
        sensitivity: Sensitivity = Sensitivity.CONFIDENTIAL,
        name: str | None = None,
    ) -> Callable[[ToolFn], ToolFn]:
        """Register `fn` under its name; the input and output models come from its type hints.
        A write needs confirmation unless it says otherwise."""

        def register(fn: ToolFn) -> ToolFn:
            hints = get_type_hints(fn)
            params = list(inspect.signature(fn).parameters)
            if len(params) != 2:
                raise TypeError(f"tool {fn.__name__} must take (ctx, args)")
            input_model, output_model = hints[params[1]], hints["return"]
            if not (isinstance(input_model, type) and issubclass(input_model, ToolInput)):
                raise TypeError(f"tool {fn.__name__}: {input_model!r} is not a ToolInput")
            if not (isinstance(output_model, type) and issubclass(output_model, BaseModel)):
                raise TypeError(f"tool {fn.__name__}: {output_model!r} is not a pydantic model")
            _require_descriptions(fn.__name__, input_model)
            if not (fn.__doc__ or "").strip():
                raise TypeError(f"tool {fn.__name__} needs a docstring: the model reads it")
            self.add(
                ToolSpec(
                    name=name or fn.__name__,
                    description=inspect.cleandoc(fn.__doc__ or ""),
                    input_model=input_model,
                    output_model=output_model,
                    kind=kind,
                    roles=frozenset(roles),
                    confirm=kind is ToolKind.WRITE if confirm is None else confirm,
                    sensitivity=sensitivity,
                    fn=fn,
                )
            )
            return fn

        return register

    def previewer(self, name: str) -> Callable[[PreviewFn], PreviewFn]:
        """Register what `name` would do, shown before the caller confirms it."""

        def register(fn: PreviewFn) -> PreviewFn:
            spec = self.get(name)
            self._tools[name] = ToolSpec(**{**spec.__dict__, "preview_fn": fn})
            return fn

        return register

    def add(self, spec: ToolSpec) -> None:
        if spec.name in self._tools:
            raise ValueError(f"a tool named {spec.name!r} is already registered")
        if not spec.roles:
            raise ValueError(f"tool {spec.name!r} names no role that may use it")
        self._tools[spec.name] = spec

    # -- looking ---------------------------------------------------------------------------
    def get(self, name: str) -> ToolSpec:
        try:
            return self._tools[name]
        except KeyError:
            raise ToolError("unknown_tool", f"there is no tool named {name!r}") from None

    def available(self, caller: Caller) -> list[ToolSpec]:
        """The tools `caller`'s role may use, by name."""
        return [s for _, s in sorted(self._tools.items()) if caller.role in s.roles]

    def names(self, kind: ToolKind) -> set[str]:
        """The names of the tools of one kind (the semantic model's tool figures must name a
        read tool)."""
        return {name for name, spec in self._tools.items() if spec.kind is kind}

    def schemas(self, caller: Caller) -> list[dict[str, Any]]:
        return [spec.json_schema() for spec in self.available(caller)]

    # -- running ---------------------------------------------------------------------------
    def validate(self, ctx: ToolContext, name: str, arguments: dict[str, Any]) -> BaseModel:
        """The arguments as the tool's input model, after the role check; refusals name the
        problem (an unknown field, a wrong type) and are audited."""
        spec = self.get(name)
        if ctx.caller.role not in spec.roles:
            self._audit(ctx, spec, arguments, "refused", 0.0, code="forbidden")
            raise ToolError(
                "tool_forbidden", f"the tool {name} is not available to a {ctx.caller.role.value}"
            )
        try:
            return spec.input_model.model_validate(arguments)
        except ValidationError as exc:
            message = describe(exc)
            self._audit(ctx, spec, arguments, "refused", 0.0, code="invalid_arguments")
            raise ToolError("invalid_arguments", f"{name}: {message}") from None

    async def preview(self, ctx: ToolContext, name: str, arguments: dict[str, Any]) -> Preview:
        """What the write would do; changes nothing."""
        spec = self.get(name)
        args = self.validate(ctx, name, arguments)
        if spec.preview_fn is None:
            return Preview(summary=f"{name} with {args.model_dump(exclude_none=True)}")
        try:
            return await asyncio.to_thread(spec.preview_fn, ctx, args)
        except AssistantError as exc:
            dumped = args.model_dump(mode="json")
            self._audit(ctx, spec, dumped, "rejected", 0.0, code=exc.code, error=exc.message)
            raise

    async def call(
        self, ctx: ToolContext, name: str, arguments: dict[str, Any], *, confirmed: bool = False
    ) -> ToolResult:
        """Validate, check, run and audit one call, in a span naming the tool (not its
        arguments). A write that needs confirmation is refused unless the surface says the
        caller confirmed it."""
        attributes = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": name,
            "trading_assist.tool.confirmed": confirmed,
        }
        with span(f"execute_tool {name}", attributes):
            return await self._call(ctx, name, arguments, confirmed)

    async def _call(
        self, ctx: ToolContext, name: str, arguments: dict[str, Any], confirmed: bool
    ) -> ToolResult:
        spec = self.get(name)
        args = self.validate(ctx, name, arguments)
        dumped = args.model_dump(mode="json")
        if spec.confirm and not confirmed:
            self._audit(ctx, spec, dumped, "refused", 0.0, code="confirmation_required")
            raise ToolError(
                "confirmation_required", f"{name} changes your account and needs your confirmation"
            )
        started = time.perf_counter()
        try:
            output = await asyncio.to_thread(spec.fn, ctx, args)
        except AssistantError as exc:
            elapsed = _ms(started)
            self._audit(ctx, spec, dumped, "rejected", elapsed, code=exc.code, error=exc.message)
            raise
        except Exception as exc:
            elapsed = _ms(started)
            log.exception("tool %s failed", name)
            self._audit(ctx, spec, dumped, "error", elapsed, error=repr(exc))
            raise ToolError("tool_failed", f"{name} failed; the error was logged") from exc
        elapsed = _ms(started)
        result = ToolResult(
            tool=name,
            output=output.model_dump(mode="json"),
            text=sentence(output),
            elapsed_ms=elapsed,
        )
        self._audit(ctx, spec, dumped, "ok", elapsed)
        return result

    def record(
        self, ctx: ToolContext, name: str, arguments: dict[str, Any], outcome: str, **detail: Any
    ) -> None:
        """Audit what a surface decided about a call (declined, expired, refused by its
        preview) without running it."""
        self._audit(ctx, self.get(name), arguments, outcome, 0.0, **detail)

    def _audit(
        self,
        ctx: ToolContext,
        spec: ToolSpec,
        arguments: dict[str, Any],
        outcome: str,
        elapsed_ms: float,
        **detail: Any,
    ) -> None:
        engine = getattr(ctx.services, "engine", None)
        if engine is None:
            log.info("tool %s %s (no audit store)", spec.name, outcome)
            return
        audit.record(
            engine,
            ctx.caller,
            f"tool.{spec.name}",
            outcome,
            tool=spec.name,
            kind=spec.kind.value,
            arguments=arguments,
            elapsed_ms=elapsed_ms,
            confirmed=bool(ctx.idempotency_key),
            **detail,
        )


def sentence(output: BaseModel) -> str:
    """An output told to a person: its own `sentence()` when it has one, else its fields.

    >>> class Quote(BaseModel):
    ...     symbol: str
    ...     price: float
    >>> sentence(Quote(symbol="AAPL", price=191.5))
    'symbol: AAPL; price: 191.5'
    """
    own = getattr(output, "sentence", None)
    if callable(own):
        return own()
    return "; ".join(f"{k}: {_plain(v)}" for k, v in output.model_dump(mode="json").items())


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value) or "none"
    if isinstance(value, dict):
        return "(" + ", ".join(f"{k} {_plain(v)}" for k, v in value.items()) + ")"
    return str(value)


def describe(exc: ValidationError) -> str:
    """pydantic's report as one sentence a person (or the model) can act on.

    >>> from pydantic import BaseModel
    >>> class In(BaseModel, extra="forbid"):
    ...     quantity: float
    >>> try:
    ...     In.model_validate({"quantity": "lots", "user_id": 7})
    ... except ValidationError as exc:
    ...     describe(exc)
    "quantity: Input should be a valid number, unable to parse string as a number; user_id is \
not an argument of this tool (who you are comes from your sign-in, never from arguments)"
    """
    problems = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "arguments"
        if error["type"] == "extra_forbidden":
            problems.append(
                f"{where} is not an argument of this tool (who you are comes from your sign-in, "
                "never from arguments)"
            )
        else:
            problems.append(f"{where}: {error['msg']}")
    return "; ".join(problems)


def _require_descriptions(tool: str, model: type[BaseModel]) -> None:
    missing = [name for name, info in model.model_fields.items() if not info.description]
    if missing:
        raise TypeError(f"tool {tool}: fields without a description: {', '.join(missing)}")


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
