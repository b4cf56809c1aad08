"""`trading-assist sql ...`: the SQL guard on its own, for people and scripts."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

sql_app = typer.Typer(help="Check SQL with the guard, without running it.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)


@sql_app.command("check")
def sql_check(
    sql: Annotated[
        str, typer.Argument(metavar="SQL", help="The SQL to check; - reads it from stdin.")
    ],
    dialect: Annotated[
        str,
        typer.Option(help="Dialect the SQL is written in: sqlite, postgres, tsql, mysql, duckdb."),
    ] = "sqlite",
    target_dialect: Annotated[
        str | None, typer.Option(help="Dialect to write the accepted SQL in (default: --dialect).")
    ] = None,
    schema: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="JSON catalog {table: {column: type}}; every table open to every role.",
        ),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option(
            exists=True, dir_okay=False, help="Policy file, YAML or JSON (sql_guard/POLICY.md)."
        ),
    ] = None,
    role: Annotated[
        str | None,
        typer.Option(help="customer, support or admin (default: admin, customer with --user-id)."),
    ] = None,
    user_id: Annotated[int | None, typer.Option(help="The caller's user id (scopes rows).")] = None,
    max_rows: Annotated[
        int | None, typer.Option(min=1, help="Row cap (default: the policy's, 200).")
    ] = None,
) -> None:
    """Check one statement and print {"allowed", "reasons", "sql"} as JSON: exit 0 when allowed,
    1 when rejected, 2 when the options or files are wrong. Without --schema or --policy the
    platform's own catalog and roles apply."""
    import yaml

    from services.identity import Caller, Role
    from sql_guard.guard import DIALECTS, check
    from sql_guard.policy import Policy, load_policy, open_policy, platform_policy

    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # its parse warnings are not ours
    for name, value in (("--dialect", dialect), ("--target-dialect", target_dialect)):
        if value is not None and value not in DIALECTS:
            _usage(f"{name} must be one of {', '.join(DIALECTS)}, not {value}")
    if schema and policy:
        _usage("give --schema or --policy, not both")
    try:
        caller_role = Role(role) if role else (Role.CUSTOMER if user_id is not None else Role.ADMIN)
    except ValueError:
        _usage(f"--role must be one of {', '.join(r.value for r in Role)}, not {role}")
    try:
        if policy:
            chosen: Policy = load_policy(policy)
        elif schema:
            chosen = open_policy(json.loads(schema.read_text(encoding="utf-8")))
        else:
            chosen = platform_policy()
    except (OSError, ValueError, ValidationError, yaml.YAMLError) as exc:
        _usage(f"cannot use {policy or schema}: {exc}")
    if max_rows is not None:
        chosen = chosen.model_copy(update={"max_rows": max_rows})
    text = sys.stdin.read() if sql == "-" else sql
    verdict = check(
        text,
        policy=chosen,
        caller=Caller(role=caller_role, user_id=user_id),
        dialect=dialect,
        target_dialect=target_dialect,
    )
    print(json.dumps(verdict.model_dump(include={"allowed", "reasons", "sql"}), indent=2))
    raise typer.Exit(0 if verdict.allowed else 1)


def _usage(message: str) -> NoReturn:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)
