"""Shared fixtures: a real demo database built once per session, and assistants over it."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
from collections.abc import Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
import time_machine
from langchain_core.messages import BaseMessage

from agents.sql.agent import SqlAgent
from cli.setup import build_demo_data
from graphs.assistant import Assistant
from services import clock
from services.catalog import Catalog, catalog_from_engine, catalog_from_metadata
from services.db.engines import make_engine
from services.db.models import Base
from services.llm.scripted import ScriptedChatModel
from services.settings import Settings
from sql_guard.policy import platform_policy
from sql_guard.runner import ReplicaRunner


def pytest_configure(config: pytest.Config) -> None:
    """`TRADING_ASSIST_TODAY=YYYY-MM-DD pytest` runs the whole suite on that day (the clock
    keeps ticking from its start), so a rule that only holds on some weekdays shows itself."""
    if day := os.environ.get("TRADING_ASSIST_TODAY"):
        traveller = time_machine.travel(datetime.combine(date.fromisoformat(day), time(9, 30)))
        traveller.start()
        config.add_cleanup(traveller.stop)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`make test` runs the suite on two workers (`-n 2 --dist loadgroup`). The tests of the
    real model run one after another on one of them: two at once would each get half the
    cores and wait on the other. Everything else is spread over both."""
    for item in items:
        if item.get_closest_marker("model"):
            item.add_marker(pytest.mark.xdist_group("model"))


def make_settings(var_dir: Path, **overrides: Any) -> Settings:
    return Settings(_env_file=None, var_dir=var_dir, **overrides)


def copy_var_dir(source: Path, target: Path) -> Path:
    """A private copy of a var folder while its databases are open in this process.

    SQLite files are copied through SQLite's backup API, never as plain files: opening and
    closing a database file outside SQLite drops the POSIX locks this process holds on it
    (they are per process, not per descriptor), and a write racing that corrupts it."""

    def databases(folder: str, names: list[str]) -> set[str]:
        return {n for n in names if n.endswith((".db", ".db-wal", ".db-shm"))}

    shutil.copytree(source, target, ignore=databases)
    for database in source.rglob("*.db"):
        copy_database(database, target / database.relative_to(source))
    return target


def private_copy(settings: Settings, var: Path) -> Settings:
    """`settings` on a copy of its var folder: what a test adds (documents, orders, threads)
    stays out of the shared demo data."""
    copy_var_dir(settings.var_dir, var)
    database = var / "trading_assist.db"
    return settings.model_copy(
        update={
            "var_dir": var,
            "database_url": f"sqlite:///{database}",
            "read_replica_url": f"sqlite:///file:{database}?mode=ro&uri=true",
            "checkpoint_url": f"sqlite:///{var / 'checkpoints.db'}",
            "blob_storage_url": f"file://{var / 'blobs'}",
        }
    )


def copy_database(source: Path, target: Path) -> None:
    """One SQLite database copied through SQLite (see `copy_var_dir`)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    """The demo data built once, and a copy of its database as built. Servers started on the
    shared settings run the platform's jobs on it (KYC expiry moves lapsed approvals), so a
    test about the data as generated, such as the golden sets', reads the copy."""
    settings = make_settings(tmp_path_factory.mktemp("var"))
    build_demo_data(settings, seed=7, users=120, as_of=clock.today())
    as_built = tmp_path_factory.mktemp("as_built") / "trading_assist.db"
    copy_database(settings.var_dir / "trading_assist.db", as_built)
    return settings, as_built


@pytest.fixture(scope="session")
def demo_settings(demo_build: tuple[Settings, Path]) -> Settings:
    return demo_build[0]


@pytest.fixture(scope="session")
def demo_database_as_built(demo_build: tuple[Settings, Path]) -> Path:
    return demo_build[1]


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
