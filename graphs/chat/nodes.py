"""The chat graph's nodes. Each worker answers one part of the plan and hands back to dispatch,
so a compound question ("my BTC position, and the withdrawal fee?") is answered part by part
within the step budget."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from agents import action_agent, prompts
from agents.answer_composer import compose_answer
from agents.direct_answer import help_text, reason
from agents.followup import Turn, is_follow_up, standalone
from agents.model_selector import ModelSelector
from agents.rag_agent import RagAgent
from agents.router import QueryType, RequestPart, RouteDecision, Router
from agents.sql_agent import SqlAgent
from graphs.chat.state import MAX_HISTORY, ChatContext, ChatState, PartResult
from services.errors import AssistantError
from services.llm.privacy import Sensitivity
from services.llm.providers import ModelTask

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
        at least as sensitive as both."""
        router, caller = self.agents.router, context.caller
        decision = router.route(state.question, caller)
        if not (state.history and is_follow_up(state.question)):
            return decision
        earlier = router.route(state.history[-1].question, caller)
        sensitivity = stricter(earlier.sensitivity, decision.sensitivity)
        part = earlier.parts[0]
        # labels merged: the provider is chosen again, so a confidential follow-up to a public
        # question stays local
        choice = router.policy.choose(
            [part.query_type], sensitivity, earlier.complexity, caller.role
        )
        return earlier.model_copy(
            update={
                "sensitivity": sensitivity,
                "provider": choice.provider,
                "fallback": choice.fallback,
                "parts": [
                    part.model_copy(update={"text": standalone(state.question, state.history)})
                ],
                "reasons": [
                    *earlier.reasons,
                    "a follow-up to the previous question",
                    f"provider {choice.provider}: {choice.rule}",
                ],
            }
        )

    def dispatch(
        self, state: ChatState
    ) -> Command[Literal["sql_agent", "rag_agent", "action_agent", "direct", "finish"]]:
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
            outcome = await self.agents.sql.answer(
                part.text, runtime.context.caller, llm=self._model(state, ModelTask.SQL)
            )
            sentence = await compose_answer(self._model(state), part.text, outcome.result)
            return PartResult(part=part, answer=sentence, outcome=outcome)

        return await self._answer_part(state, work)

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

    async def action_agent(self, state: ChatState) -> dict:
        async def work(part: RequestPart) -> PartResult:
            text, action = await action_agent.answer(self._model(state), part.text)
            return PartResult(
                part=part, answer=text, action=action.model_dump() if action else None
            )

        return await self._answer_part(state, work)

    async def direct(self, state: ChatState) -> dict:
        async def work(part: RequestPart) -> PartResult:
            if part.query_type is QueryType.REASONING:
                return PartResult(part=part, answer=await reason(self._model(state), part.text))
            return PartResult(part=part, answer=help_text())

        return await self._answer_part(state, work)

    # -- the answer ------------------------------------------------------------------------
    def finish(self, state: ChatState) -> dict:
        answers = [r.answer for r in state.results]
        text = answers[0] if len(answers) == 1 else "\n\n".join(answers)
        if state.budget_exceeded:
            budget = prompts.STEP_BUDGET_EXCEEDED.format(budget=self.agents.step_budget)
            text = f"{text}\n\n{budget}" if text else budget
        sql = next((r.outcome.draft for r in state.results if r.outcome), None)
        route = state.decision.query_type.value if state.decision else "general"
        turn = Turn(question=state.question, route=route, answer=text, sql=sql)
        return {"answer": text, "history": [*state.history, turn][-MAX_HISTORY:]}
