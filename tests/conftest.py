"""Shared fixtures: a real demo database built once per session, and assistants over it."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage

from agents.sql_agent import SqlAgent
from cli.setup import build_demo_data
from graphs.assistant import Assistant
from services.catalog import Catalog, catalog_from_engine, catalog_from_metadata
from services.db.engines import make_engine
from services.db.models import Base
from services.llm.scripted import ScriptedChatModel
from services.settings import Settings
from sql_guard.policy import platform_policy
from sql_guard.runner import ReplicaRunner

AS_OF = date.today()


def make_settings(var_dir: Path, **overrides: Any) -> Settings:
    return Settings(_env_file=None, var_dir=var_dir, **overrides)


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = make_settings(tmp_path_factory.mktemp("var"))
    build_demo_data(settings, seed=7, users=120, as_of=AS_OF)
    return settings


@pytest.fixture(scope="session")
def demo_engine(demo_settings: Settings):
    engine = make_engine(demo_settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def demo_catalog(demo_engine) -> Catalog:
    return catalog_from_engine(demo_engine, base=catalog_from_metadata(Base.metadata))


@pytest.fixture
def demo_sql_agent(demo_engine, demo_catalog):
    """Builds an SQL agent over the demo database (platform policy, 100 rows) for a model."""

    def build(model, **options: Any) -> SqlAgent:
        return SqlAgent(
            model,
            catalog=demo_catalog,
            policy=platform_policy(),
            runner=ReplicaRunner(demo_engine, max_rows=100, timeout_s=5),
            dialect="sqlite",
            **{"max_retries": 1, **options},
        )

    return build


def scripted_sql(script: dict[str, str]):
    """A responder: SQL calls answer from `script` by question; answer calls echo the rows."""

    def respond(messages: Sequence[BaseMessage], kwargs: dict[str, Any]) -> str:
        if "response_format" in kwargs:
            asked = [str(m.content) for m in messages if m.type == "human"][-1]
            question = asked.split("Question: ", 1)[-1]
            return json.dumps({"sql": script[question]})
        rows = re.search(r"Result rows: (.*)", str(messages[-1].content)).group(1)
        values = re.findall(r"'([^']*)'", rows)
        return f"The result is {', '.join(values)}."

    return respond


@pytest.fixture
async def make_assistant(demo_settings: Settings):
    made: list[Assistant] = []

    def factory(responder, **settings_overrides: Any) -> tuple[Assistant, ScriptedChatModel]:
        settings = demo_settings.model_copy(update=settings_overrides)
        model = ScriptedChatModel(responder=responder)
        assistant = Assistant(settings, model)
        made.append(assistant)
        return assistant, model

    yield factory
    for assistant in made:
        await assistant.aclose()
