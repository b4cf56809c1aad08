"""The chat graph: supervisor -> (SQL agent -> answer composer) | direct answer."""

from __future__ import annotations

from typing import Literal

from langchain_core.language_models.chat_models import BaseChatModel
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents import prompts
from agents.answer_composer import compose_answer
from agents.sql_agent import SqlAgent
from agents.supervisor import choose_route
from graphs.chat.state import ChatContext, ChatState


def build_chat_graph(llm: BaseChatModel, sql_agent: SqlAgent):
    def supervisor(state: ChatState) -> Command[Literal["sql_agent", "general"]]:
        route = choose_route(state.question)
        return Command(update={"route": route}, goto="sql_agent" if route == "sql" else "general")

    async def run_sql(state: ChatState, runtime: Runtime[ChatContext]) -> dict:
        return {"outcome": await sql_agent.answer(state.question, runtime.context.caller)}

    async def compose(state: ChatState) -> dict:
        return {"answer": await compose_answer(llm, state.question, state.outcome.result)}

    def general(_state: ChatState) -> dict:
        return {"answer": prompts.GENERAL_ANSWER}

    graph = StateGraph(ChatState, context_schema=ChatContext)
    graph.add_node("supervisor", supervisor)
    graph.add_node("sql_agent", run_sql)
    graph.add_node("compose", compose)
    graph.add_node("general", general)
    graph.add_edge(START, "supervisor")
    graph.add_edge("sql_agent", "compose")
    graph.add_edge("compose", END)
    graph.add_edge("general", END)
    return graph.compile(name="chat")
