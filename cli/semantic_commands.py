"""`trading-assist semantic ...`: the semantic model file, checked before the platform uses it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

semantic_app = typer.Typer(
    help="The semantic model: what the business's words mean.", no_args_is_help=True
)
console = Console(stderr=True, soft_wrap=True)


@semantic_app.command("check")
def semantic_check(
    file: Annotated[
        Path | None,
        typer.Argument(
            dir_okay=False, help="The model file (default: SEMANTIC_MODEL_FILE, or the packaged)."
        ),
    ] = None,
) -> None:
    """Check that every table, column and value the file names exists in the database, every
    expression parses, every row set and measure passes the SQL guard, and every tool figure
    names a read tool. Prints each problem with its line and exits 1 when there is one."""
    from cli.main import _settings
    from graphs.build import sql_catalog
    from services.db.engines import make_replica_engine
    from services.semantic.loader import SemanticModelError, load_semantic_model
    from sql_guard.policy import platform_policy
    from sql_guard.runner import ReplicaRunner
    from sql_guard.semantic_check import check_semantic_model, held_by
    from tools.registry import ToolKind
    from tools.tool_set import platform_tools

    settings = _settings()
    path = file or settings.semantic_model_file
    try:
        model = load_semantic_model(path)
    except SemanticModelError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    engine = make_replica_engine(settings.read_replica_url, settings.sql_timeout_s)
    try:
        dialect = "postgres" if engine.dialect.name == "postgresql" else engine.dialect.name
        runner = ReplicaRunner(engine, max_rows=1, timeout_s=settings.sql_timeout_s)
        problems = check_semantic_model(
            model,
            sql_catalog(engine),
            platform_policy(settings.sql_row_limit),
            dialect,
            held_by(runner, dialect),
            platform_tools().names(ToolKind.READ),
        )
    finally:
        engine.dispose()
    for problem in problems:
        console.print(f"[red]error:[/red] {model.source}:{problem.line}: {problem.message}")
    if problems:
        raise typer.Exit(1)
    row_sets, measures = len(model.row_sets()), len(model.measures())
    print(
        f"{model.source}: ok ({len(model.cubes)} cubes, {row_sets} row sets, {measures} measures, "
        f"{len(model.tool_figures)} tool figures, {len(model.conventions)} conventions, "
        f"{len(model.instructions)} instructions)"
    )
