"""The chat graph's nodes. Each worker answers one part of the plan and hands back to dispatch,
so a compound question ("my BTC position, and the withdrawal fee?") is answered part by part
within the step budget."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt

from agents import prompts
from agents.actions.pending import Decision, PendingAction
from agents.actions.planner import Clarify, plan
from agents.answer_composer import compose_answer
from agents.direct_answer import help_text, reason
from agents.rag.agent import RagAgent
from agents.routing.followup import Turn, continues, in_context
from agents.routing.model_selector import ModelSelector
from agents.routing.router import QueryType, RequestPart, RouteDecision, Router
from agents.sql.agent import OffSchema, SqlAgent
from graphs.chat.state import MAX_HISTORY, ChatContext, ChatState, PartResult
from services.errors import AssistantError
from services.identity import Caller
from services.llm.privacy import Sensitivity
from services.llm.providers import ModelTask
from tools.context import ToolServices
from tools.registry import ToolContext, ToolRegistry

log = logging.getLogger(__name__)

Worker = Literal["sql_agent", "rag_agent", "action_agent", "direct"]
WORKERS: dict[QueryType, Worker] = {
    QueryType.SQL: "sql_agent",
    QueryType.DOCUMENT: "rag_agent",
    QueryType.ACTION: "action_agent",
    QueryType.GENERAL: "direct",
    QueryType.REASONING: "direct",
}
STRICTNESS = [Sensitivity.PUBLIC, Sensitivity.INTERNAL, Sensitivity.CONFIDENTIAL]
NO_DOCUMENTS = "I cannot search the firm's documents here: no document index is set up."


@dataclass(frozen=True)
class ChatAgents:
    """What the nodes work with, built once per assistant."""

    router: Router
    models: ModelSelector
    sql: SqlAgent
    rag: RagAgent | None
    step_budget: int
    tools: ToolRegistry
    tool_services: ToolServices
    confirmation_ttl_s: float = 600.0


def stricter(a: Sensitivity, b: Sensitivity) -> Sensitivity:
    """
    >>> stricter(Sensitivity.PUBLIC, Sensitivity.CONFIDENTIAL).value
    'confidential'
    """
    return max(a, b, key=STRICTNESS.index)


class ChatNodes:
    def __init__(self, agents: ChatAgents):
        self.agents = agents

    # -- planning --------------------------------------------------------------------------
    def supervisor(
        self, state: ChatState, runtime: Runtime[ChatContext]
    ) -> Command[Literal["dispatch"]]:
        decision = self.decide(state, runtime.context)
        return Command(
            update={
                "decision": decision,
                "plan": decision.parts,
                "results": [],
                "steps": 0,
                "budget_exceeded": False,
                "answer": None,
            },
            goto="dispatch",
        )

    def decide(self, state: ChatState, context: ChatContext) -> RouteDecision:
        """The router's decision; a follow-up takes its kind from the turn it follows and is
        at least as sensitive as both; a direct tool call is one action, whatever its words."""
        router, caller = self.agents.router, context.caller
        decision = router.route(state.question, caller)
        if state.tool_call is not None:
            part = decision.parts[0].model_copy(
                update={"text": state.question, "query_type": QueryType.ACTION}
            )
            reasons = [*decision.reasons, f"a direct call of the tool {state.tool_call.tool}"]
            return decision.model_copy(
                update={"query_type": QueryType.ACTION, "parts": [part], "reasons": reasons}
            )
        if not (state.history and continues(decision, state.history[-1])):
            return decision
        last = state.history[-1]
        # the turn before may be a follow-up itself, its words a fragment: what it was
        # answered as, and judged, is what this one continues
        earlier = last.decision or router.route(last.question, caller)
        kind = QueryType(last.route)
        sensitivity = stricter(
            stricter(earlier.sensitivity, decision.sensitivity),
            last.sensitivity or Sensitivity.PUBLIC,  # None: a turn kept before it was recorded
        )
        part = earlier.parts[0].model_copy(update={"query_type": kind})
        # labels merged: the provider is chosen again, so a confidential follow-up to a public
        # question stays local
        choice = router.policy.choose([kind], sensitivity, earlier.complexity, caller.role)
        reasons = [
            *earlier.reasons,
            "a follow-up: no request of its own, so read beside the turn before",
            f"provider {choice.provider}: {choice.rule}",
        ]
        return earlier.model_copy(
            update={
                "query_type": kind,
                "sensitivity": sensitivity,
                "provider": choice.provider,
                "fallback": choice.fallback,
                "parts": [
                    part.model_copy(
                        update={"text": in_context(state.question, last), "follows_sql": last.sql}
                    )
                ],
                # once each: a follow-up of a follow-up continues reasons that hold these
                "reasons": list(dict.fromkeys(reasons)),
            }
        )

    async def dispatch(
        self, state: ChatState
    ) -> Command[Literal["sql_agent", "rag_agent", "action_agent", "direct", "finish"]]:
        # a coroutine although it awaits nothing: LangGraph runs a plain function in a worker
        # thread, and the hop costs a turn more than the step itself (bench api)
        done = len(state.results)
        if done >= len(state.plan):
            return Command(goto="finish")
        if state.steps >= self.agents.step_budget:
            log.warning("step budget of %d reached", self.agents.step_budget)
            return Command(update={"budget_exceeded": True}, goto="finish")
        worker = WORKERS[state.plan[done].query_type]
        return Command(update={"steps": state.steps + 1}, goto=worker)

    # -- workers ---------------------------------------------------------------------------
    def _model(self, state: ChatState, task: ModelTask = ModelTask.GENERAL):
        decision = state.decision
        assert decision is not None  # the supervisor always decides first
        models = self.agents.models
        return models.choose(decision.provider, decision.fallback, decision.sensitivity, task)

    async def _answer_part(
        self, state: ChatState, work: Callable[[RequestPart], Awaitable[PartResult]]
    ) -> dict:
        """Run one part; in a compound request a part that cannot be answered says why and
        the others still run, while a single request reports the error as such."""
        part = state.plan[len(state.results)]
        try:
            result = await work(part)
        except AssistantError as exc:
            if len(state.plan) == 1:
                raise
            result = PartResult(part=part, answer=exc.message)
        return {"results": [*state.results, result]}

    async def sql_agent(self, state: ChatState, runtime: Runtime[ChatContext]) -> dict:
        async def work(part: RequestPart) -> PartResult:
            caller = runtime.context.caller
            try:
                outcome = await self.agents.sql.answer(
                    part.text,
                    caller,
                    llm=self._model(state, ModelTask.SQL),
                    earlier_sql=part.follows_sql,
                )
            except OffSchema as declined:
                return await self._from_documents(state, part, caller, declined)
            sentence = await compose_answer(self._model(state), part.text, outcome.result)
            return PartResult(part=part, answer=sentence, outcome=outcome)

        return await self._answer_part(state, work)

    async def _from_documents(
        self, state: ChatState, part: RequestPart, caller: Caller, declined: OffSchema
    ) -> PartResult:
        """The SQL agent declined a question the database holds nothing about: the documents
        answer it when they can, after the decline; otherwise the decline is the answer."""
        if self.agents.rag is not None:
            outcome = await self.agents.rag.answer(part.text, caller, llm=self._model(state))
            if not outcome.declined:
                citations = [c.model_dump(mode="json") for c in outcome.citations]
                answer = f"{declined.message} {outcome.answer}"
                return PartResult(part=part, answer=answer, citations=citations)
        return PartResult(part=part, answer=declined.message)

    async def rag_agent(self, state: ChatState, runtime: Runtime[ChatContext]) -> dict:
        async def work(part: RequestPart) -> PartResult:
            if self.agents.rag is None:
                return PartResult(part=part, answer=NO_DOCUMENTS)
            outcome = await self.agents.rag.answer(
                part.text, runtime.context.caller, llm=self._model(state)
            )
            citations = [c.model_dump(mode="json") for c in outcome.citations]
            return PartResult(part=part, answer=outcome.answer, citations=citations)

        return await self._answer_part(state, work)

    async def action_agent(
        self, state: ChatState, runtime: Runtime[ChatContext]
    ) -> Command[Literal["confirm", "dispatch"]]:
        """One tool call for this part: a read runs at once; a write is previewed and, when it
        can be done, waits in `confirm` for the person's yes. A tool's refusal is the answer."""
        part = state.plan[len(state.results)]
        tools, caller = self.agents.tools, runtime.context.caller
        ctx = ToolContext(caller=caller, services=self.agents.tool_services)
        try:
            planned = state.tool_call or await plan(
                self._model(state), part.text, tools.available(caller), only=part.tool
            )
            if isinstance(planned, Clarify):
                return self._done(state, PartResult(part=part, answer=planned.question))
            if not tools.get(planned.tool).confirm:
                result = await tools.call(ctx, planned.tool, planned.arguments)
                return self._done(state, _tool_part(part, result.text, planned, result.output))
            preview = await tools.preview(ctx, planned.tool, planned.arguments)
        except AssistantError as exc:
            return self._done(state, PartResult(part=part, answer=exc.message))
        if not preview.ok:
            tools.record(
                ctx, planned.tool, planned.arguments, "rejected", problems=preview.problems
            )
            answer = prompts.ACTION_REFUSED.format(
                summary=preview.summary, problems="; ".join(preview.problems)
            )
            return self._done(state, _tool_part(part, answer, planned, None))
        pending = PendingAction.offer(
            planned.tool, planned.arguments, preview, self.agents.confirmation_ttl_s
        )
        return Command(update={"pending": pending}, goto="confirm")

    async def confirm(
        self, state: ChatState, runtime: Runtime[ChatContext]
    ) -> Command[Literal["dispatch"]]:
        """Pause until the person answers (LangGraph re-runs this node from the top on resume,
        so nothing happens before `interrupt`); then act, or say that nothing was done."""
        pending = state.pending
        assert pending is not None  # the action agent only comes here with one
        decision = Decision.model_validate(interrupt(pending.model_dump(mode="json")))
        part = state.plan[len(state.results)]
        tools = self.agents.tools
        ctx = ToolContext(
            caller=runtime.context.caller,
            services=self.agents.tool_services,
            idempotency_key=pending.id,
        )
        if not decision.approve:
            tools.record(ctx, pending.tool, pending.arguments, "rejected", code="declined")
            answer = prompts.ACTION_DECLINED.format(summary=pending.summary)
        elif pending.expired:
            tools.record(ctx, pending.tool, pending.arguments, "rejected", code="expired")
            answer = prompts.ACTION_EXPIRED.format(summary=pending.summary)
        else:
            try:
                result = await tools.call(ctx, pending.tool, pending.arguments, confirmed=True)
            except AssistantError as exc:
                answer = prompts.ACTION_FAILED.format(summary=pending.summary, error=exc.message)
            else:
                call = {"tool": pending.tool, "arguments": pending.arguments}
                part_result = PartResult(
                    part=part, answer=result.text, action={**call, "output": result.output}
                )
                return Command(
                    update={"results": [*state.results, part_result], "pending": None},
                    goto="dispatch",
                )
        action = {"tool": pending.tool, "arguments": pending.arguments, "output": None}
        done = PartResult(part=part, answer=answer, action=action)
        return Command(update={"results": [*state.results, done], "pending": None}, goto="dispatch")

    @staticmethod
    def _done(state: ChatState, result: PartResult) -> Command[Literal["dispatch"]]:
        return Command(update={"results": [*state.results, result]}, goto="dispatch")

    async def direct(self, state: ChatState) -> dict:
        async def work(part: RequestPart) -> PartResult:
            if part.query_type is QueryType.REASONING:
                return PartResult(part=part, answer=await reason(self._model(state), part.text))
            if part.held_nowhere:
                return PartResult(part=part, answer=prompts.NOTHING_HELD + help_text())
            return PartResult(part=part, answer=help_text())

        return await self._answer_part(state, work)

    # -- the answer ------------------------------------------------------------------------
    async def finish(self, state: ChatState) -> dict:  # a coroutine: see `dispatch`
        answers = [r.answer for r in state.results]
        text = answers[0] if len(answers) == 1 else "\n\n".join(answers)
        if state.budget_exceeded:
            budget = prompts.STEP_BUDGET_EXCEEDED.format(budget=self.agents.step_budget)
            text = f"{text}\n\n{budget}" if text else budget
        sql = next((r.outcome.draft for r in state.results if r.outcome), None)
        decision = state.decision
        turn = Turn(
            question=state.question,
            route=decision.query_type.value if decision else "general",
            answer=text,
            sql=sql,
            sensitivity=decision.sensitivity if decision else None,
            decision=decision,
        )
        return {"answer": text, "history": [*state.history, turn][-MAX_HISTORY:]}


def _tool_part(part: RequestPart, answer: str, planned, output) -> PartResult:
    action = {"tool": planned.tool, "arguments": planned.arguments, "output": output}
    return PartResult(part=part, answer=answer, action=action)
