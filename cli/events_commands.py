"""`trading-assist events ...`: run the outbox dispatcher, see what waits, read dead letters."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from services.errors import AssistantError

events_app = typer.Typer(
    help="Domain events: the outbox and the message bus.", no_args_is_help=True
)
console = Console(stderr=True, soft_wrap=True)


def _engine(settings):
    from services.db.engines import make_engine
    from services.db.migrate import require_schema

    engine = make_engine(settings.database_url)
    try:
        require_schema(engine)
    except AssistantError as exc:
        engine.dispose()
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None
    return engine


def _bus(settings):
    from services.events.bus import open_bus

    try:
        return open_bus(settings)
    except AssistantError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from None


@events_app.command("dispatch")
def dispatch(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due now, then exit (1 if any failed).")
    ] = False,
) -> None:
    """Deliver the outbox to MESSAGE_BUS_URL: until Ctrl-C, or once with --once."""
    from cli.main import _settings
    from services.events.dispatcher import Dispatcher
    from services.events.status import outbox_status

    settings = _settings()
    engine = _engine(settings)
    bus = _bus(settings)
    dispatcher = Dispatcher.from_settings(settings, engine, bus)
    if settings.message_bus_url.startswith("memory://"):
        console.print("[yellow]memory:// delivers only to subscribers inside this process[/yellow]")

    async def main():
        try:
            if once:
                return await dispatcher.drain()
            console.print(f"dispatching to {bus.description}; Ctrl-C stops")
            await dispatcher.run()
            return None
        finally:
            await bus.close()

    try:
        report = asyncio.run(main())
    except KeyboardInterrupt:
        report = None
    finally:
        left = outbox_status(engine)
        engine.dispose()
    if report is not None:
        Console().print(
            f"delivered {report.delivered}, failed {report.failed}, "
            f"still pending {left.pending} ({left.retrying} backing off)"
        )
        raise typer.Exit(1 if report.failed else 0)


@events_app.command("status")
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """How many events wait in the outbox, how many the bus refused, the oldest one's age."""
    from cli.main import _settings
    from services.events.status import outbox_status

    engine = _engine(_settings())
    try:
        report = outbox_status(engine)
    finally:
        engine.dispose()
    if as_json:
        print(report.model_dump_json(indent=2))
        return
    table = Table("pending", "backing off", "dispatched", "oldest pending (s)", "last error")
    age = report.oldest_pending_age_s
    table.add_row(
        str(report.pending),
        str(report.retrying),
        str(report.dispatched),
        "" if age is None else f"{age:,.0f}",
        report.last_error or "",
    )
    Console().print(table)


@events_app.command("dead-letters")
def dead_letters(
    consumer: Annotated[str, typer.Argument(help="The consumer's subscription name.")],
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Most letters to show.")] = 50,
) -> None:
    """The events a consumer gave up on, and why (left where they are)."""
    from cli.main import _settings

    bus = _bus(_settings())

    async def read():
        try:
            return await bus.dead_letters(consumer, limit)
        finally:
            await bus.close()

    try:
        letters = asyncio.run(read())
    except (AssistantError, ConnectionError) as exc:
        console.print(f"[red]error:[/red] {getattr(exc, 'message', exc)}")
        raise typer.Exit(1) from None
    table = Table(title=f"dead letters of {consumer}")
    table.add_column("event id", no_wrap=True)  # whole, to copy into a query
    for column in ("type", "attempts", "error"):
        table.add_column(column)
    for letter in letters:
        table.add_row(letter.event_id, letter.event_type, str(letter.attempts), letter.error)
    Console().print(table)


@events_app.command("purge")
def purge(
    days: Annotated[
        int, typer.Option(min=1, max=3650, help="Keep what was delivered or handled since.")
    ] = 30,
) -> None:
    """Delete events delivered, and consumer dedup records made, more than --days ago; events
    still to deliver are kept whatever their age."""
    from datetime import timedelta

    from cli.main import _settings
    from services.events.retention import purge as purge_old

    engine = _engine(_settings())
    try:
        purged = purge_old(engine, timedelta(days=days))
    finally:
        engine.dispose()
    Console().print(
        f"deleted {purged.dispatched} delivered events and {purged.processed} consumer records"
    )
