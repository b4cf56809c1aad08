"""`trading-assist payments ...`: the scheduled jobs of payments and KYC (dunning of past-due
subscriptions, expiry of identity checks) and staff decisions on withdrawals."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from services.errors import AssistantError

if TYPE_CHECKING:
    from services.payments.wiring import PaymentServices

payments_app = typer.Typer(
    help="Payments and KYC: dunning, identity-check expiry, withdrawals.", no_args_is_help=True
)
console = Console(stderr=True, soft_wrap=True)


@contextmanager
def _services() -> Iterator[PaymentServices]:
    """The services over the configured database; an error ends the command with its message."""
    from cli.main import _settings
    from services.db.engines import make_engine
    from services.db.migrate import require_schema
    from services.payments.wiring import build_payment_services

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        require_schema(engine)
        yield build_payment_services(settings, engine)
    except AssistantError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


@payments_app.command("dunning")
def dunning() -> None:
    """Retry past-due subscription renewals that are due; cancel after the last retry."""
    from services.payments.dunning import run_dunning

    with _services() as built:
        report = run_dunning(built.payments)
    typer.echo(report.model_dump_json())


@payments_app.command("expire-kyc")
def expire_kyc() -> None:
    """Mark approved identity checks whose validity has passed as expired."""
    with _services() as built:
        expired = built.kyc.expire_due()
    typer.echo(f'{{"expired": {expired}}}')


@payments_app.command("withdrawal")
def withdrawal(
    payment_id: int,
    decision: Annotated[str, typer.Argument(help="approve, reject or pay.")],
    reason: Annotated[str | None, typer.Option(help="Why, when rejecting.")] = None,
    as_user_id: Annotated[int, typer.Option(help="The staff member deciding (users.id).")] = 0,
) -> None:
    """Approve, reject or mark paid a customer's withdrawal, as a staff member."""
    from services.users import caller_for

    with _services() as built:
        staff = caller_for(built.payments.engine, as_user_id or None)
        out = built.payments.decide_withdrawal(staff, payment_id, decision, reason)
    typer.echo(out.model_dump_json())


@payments_app.command("bench")
def bench(
    events: Annotated[int, typer.Option(min=1, max=100_000, help="Webhook deliveries.")] = 300,
    database_url: Annotated[
        str | None,
        typer.Option(help="An empty database to run on (default: a temporary SQLite file)."),
    ] = None,
    stripe_api_base: Annotated[
        str | None, typer.Option(help="A Stripe-compatible server (localstripe) for deposits.")
    ] = None,
) -> None:
    """Webhook deliveries applied, replays and stale events per second (and deposits per
    second through the Stripe SDK when a server is given)."""
    from evals.bench_payments import run

    print(run(events, database_url, stripe_api_base).model_dump_json(indent=2))
