"""`trading-assist examples ...`: the staff review of answers customers confirmed.

A customer's thumbs-up waits here until support or an admin approves it; approved pairs are
verified examples the SQL agent reuses for everyone's similar questions (a running server picks
them up at its next question)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from services import audit
from services.errors import AssistantError
from services.identity import Caller

examples_app = typer.Typer(
    help="Review the answers customers confirmed before they teach the SQL agent.",
    no_args_is_help=True,
)
console = Console(stderr=True, soft_wrap=True)

UserId = Annotated[int | None, typer.Option(help="Review as this user (default: operator).")]


def _run(user_id: int | None, work):
    """Run `work(feedback, caller)` against the database, printing an error as one line."""
    from cli.auth_commands import _engine, _fail
    from graphs.feedback import ExampleFeedback
    from services.users import caller_for

    _, engine = _engine()

    async def audit_to(caller: Caller, action: str, outcome: str, **detail) -> None:
        await asyncio.to_thread(audit.record, engine, caller, action, outcome, **detail)

    try:
        caller = caller_for(engine, user_id)
        return asyncio.run(work(ExampleFeedback(engine, lambda: None, audit_to), caller))
    except AssistantError as exc:
        _fail(exc.message)
    finally:
        engine.dispose()


@examples_app.command("list")
def list_reviews(
    user_id: UserId = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The confirmations waiting for a decision."""
    pending = _run(user_id, lambda feedback, caller: feedback.reviews(caller))
    if as_json:
        print(json.dumps([r.model_dump(mode="json") for r in pending], indent=2))
        return
    table = Table("id", "question", "sql", "by", "confirmed at", title="waiting for review")
    for r in pending:
        when = f"{r.created_at:%Y-%m-%d %H:%M}"
        table.add_row(str(r.id), r.question, r.sql, str(r.proposed_by), when)
    Console().print(table)


@examples_app.command()
def approve(
    review_id: Annotated[int, typer.Argument(help="The review's id (from `examples list`).")],
    user_id: UserId = None,
) -> None:
    """Make the confirmed question and SQL a verified example."""
    review = _run(
        user_id, lambda feedback, caller: feedback.decide(review_id, caller, approve=True)
    )
    console.print(f"review {review.id} approved: the SQL agent reuses it from now on")


@examples_app.command()
def reject(
    review_id: Annotated[int, typer.Argument(help="The review's id (from `examples list`).")],
    reason: Annotated[str, typer.Option(help="Why the SQL is not a good answer.")],
    user_id: UserId = None,
) -> None:
    """Turn the confirmation down, with the reason kept beside it."""
    review = _run(
        user_id,
        lambda feedback, caller: feedback.decide(review_id, caller, approve=False, reason=reason),
    )
    console.print(f"review {review.id} rejected")
