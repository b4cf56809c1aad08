"""The chat graph: the supervisor plans, then dispatches each part of the request to the SQL,
document, action or direct agent in turn, and the finish node puts the answers together.

    START → supervisor → dispatch ⇄ {sql_agent, rag_agent, action_agent, direct} → finish → END
                                    action_agent → confirm (pauses until yes or no) → dispatch

A write tool's call waits in `confirm` on LangGraph's `interrupt()`; the pause is kept by the
checkpointer, so the answer may come from another process, or after a restart.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from graphs.chat.nodes import ChatAgents, ChatNodes
from graphs.chat.state import ChatContext, ChatState
from graphs.tracing import traced_node

NODES = (
    "supervisor",
    "dispatch",
    "sql_agent",
    "rag_agent",
    "action_agent",
    "confirm",
    "direct",
    "finish",
)


def build_chat_graph(agents: ChatAgents, *, checkpointer=None):
    nodes = ChatNodes(agents)
    graph = StateGraph(ChatState, context_schema=ChatContext)
    for name in NODES:  # each step in a span of its own (graphs/tracing.py)
        graph.add_node(name, traced_node(name, getattr(nodes, name)))
    graph.add_edge(START, "supervisor")
    for worker in ("sql_agent", "rag_agent", "direct"):
        graph.add_edge(worker, "dispatch")
    graph.add_edge("finish", END)
    return graph.compile(name="chat", checkpointer=checkpointer)
