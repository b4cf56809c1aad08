"""A span per graph step: each node of a graph runs inside `graph.node <name>`, so the model
calls, SQL and tool calls it makes nest under the step that made them.

LangGraph reads a node's signature (does it take `runtime`?) and its return annotation (where
may its `Command` go?); the wrapper keeps both (`functools.wraps`), and stays a coroutine
function for a coroutine node. An interrupt (a write waiting for the person's yes) is control
flow, not a failure.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from langgraph.errors import GraphBubbleUp

from services.telemetry import span

NODE = "langgraph.node"


def traced_node(name: str, node: Callable[..., Any]) -> Callable[..., Any]:
    attributes = {NODE: name}
    title = f"graph.node {name}"
    if inspect.iscoroutinefunction(node):

        @functools.wraps(node)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            with span(title, attributes, benign=(GraphBubbleUp,)):
                return await node(*args, **kwargs)

        return run_async

    @functools.wraps(node)
    def run(*args: Any, **kwargs: Any) -> Any:
        with span(title, attributes, benign=(GraphBubbleUp,)):
            return node(*args, **kwargs)

    return run
