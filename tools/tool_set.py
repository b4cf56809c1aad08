"""The platform's tools: the one registry every surface calls.

Each domain module registers its tools here when imported; `platform_tools()` imports them all,
so a surface that asks for the registry gets every tool, and a duplicate name fails at import.
"""

from __future__ import annotations

import importlib

from tools.registry import ToolRegistry

TOOLS = ToolRegistry()

DOMAINS = (
    "tools.documents",
    "tools.market",
    "tools.trading",
    "tools.payments",
    "tools.kyc",
    "tools.notifications",
)


def platform_tools() -> ToolRegistry:
    for module in DOMAINS:
        importlib.import_module(module)
    return TOOLS
