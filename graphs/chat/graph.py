"""The chat graph: the supervisor plans, then dispatches each part of the request to the SQL,
document, action or direct agent in turn, and the finish node puts the answers together.

    START → supervisor → dispatch ⇄ {sql_agent, rag_agent, action_agent, direct} → finish → END
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from graphs.chat.nodes import ChatAgents, ChatNodes
from graphs.chat.state import ChatContext, ChatState


def build_chat_graph(agents: ChatAgents, *, checkpointer=None):
    nodes = ChatNodes(agents)
    graph = StateGraph(ChatState, context_schema=ChatContext)
    graph.add_node("supervisor", nodes.supervisor)
    graph.add_node("dispatch", nodes.dispatch)
    graph.add_node("sql_agent", nodes.sql_agent)
    graph.add_node("rag_agent", nodes.rag_agent)
    graph.add_node("action_agent", nodes.action_agent)
    graph.add_node("direct", nodes.direct)
    graph.add_node("finish", nodes.finish)
    graph.add_edge(START, "supervisor")
    for worker in ("sql_agent", "rag_agent", "action_agent", "direct"):
        graph.add_edge(worker, "dispatch")
    graph.add_edge("finish", END)
    return graph.compile(name="chat", checkpointer=checkpointer)
