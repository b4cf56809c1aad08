"""`trading-assist notify ...`: deliver what is due, send a staff message, see and change a
user's notifications and preferences. The operator acts as admin unless `--as-user-id` names a
user, who then acts with their own role."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from services.errors import AssistantError
from services.notifications.channels import ChannelName
from services.notifications.events import NotificationKind

if TYPE_CHECKING:
    from services.identity import Caller
    from services.notifications.service import NotificationService

notify_app = typer.Typer(
    help="Notifications: delivery, staff messages, preferences.", no_args_is_help=True
)
console = Console(stderr=True, soft_wrap=True)

AsUser = Annotated[
    int | None, typer.Option(help="Act as this user, with their role (default: the operator).")
]


@contextmanager
def _service(as_user_id: int | None) -> Iterator[tuple[NotificationService, Caller]]:
    """The service over the configured database, the acting caller; errors end the command."""
    from cli.main import _settings
    from services.db.engines import make_engine
    from services.db.migrate import require_schema
    from services.notifications.service import NotificationService
    from services.users import caller_for

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        require_schema(engine)
        yield NotificationService.from_settings(settings, engine), caller_for(engine, as_user_id)
    except AssistantError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


@notify_app.command("deliver")
def deliver(
    limit: Annotated[int, typer.Option(min=1, help="Most notifications tried per pass.")] = 100,
    every: Annotated[
        float | None,
        typer.Option(min=1, help="Keep running, one pass every this many seconds (Ctrl-C stops)."),
    ] = None,
) -> None:
    """Send the email, SMS and push notifications that are due; print what happened."""
    with _service(None) as (service, _):
        while True:
            print(service.deliver_due(limit).model_dump_json())
            if every is None:
                return
            try:
                time.sleep(every)
            except KeyboardInterrupt:
                return


@notify_app.command("send")
def send(
    user_id: Annotated[int, typer.Option(help="The recipient.")],
    subject: Annotated[str, typer.Option(help="One line.")],
    body: Annotated[str, typer.Option(help="The message; blank lines separate paragraphs.")],
    channel: Annotated[ChannelName, typer.Option(help="How it goes out.")] = ChannelName.IN_APP,
    as_user_id: AsUser = None,
) -> None:
    """Send a message to one user (support and admins only); email, SMS and push go out with
    the next `notify deliver`."""
    with _service(as_user_id) as (service, caller):
        sent = service.send_notification(caller, user_id, subject, body, channel)
        print(sent.model_dump_json(indent=2))


@notify_app.command("list")
def list_notifications(
    user_id: Annotated[int | None, typer.Option(help="Whose (default: everyone's).")] = None,
    unread: Annotated[bool, typer.Option(help="Only unread in-app messages.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
    as_user_id: AsUser = None,
) -> None:
    """The newest notifications, with their delivery status."""
    with _service(as_user_id) as (service, caller):
        rows = service.list(caller, user_id=user_id, unread_only=unread, limit=limit)
    table = Table("id", "user", "channel", "status", "attempts", "subject", "last error")
    for n in rows:
        table.add_row(
            str(n.id),
            str(n.user_id),
            n.channel.value,
            n.status,
            str(n.attempts),
            n.subject,
            n.last_error or "",
        )
    Console().print(table)


@notify_app.command("preferences")
def preferences(
    user_id: Annotated[int, typer.Option(help="Whose preferences.")],
    kind: Annotated[NotificationKind | None, typer.Option(help="Change this kind...")] = None,
    channel: Annotated[ChannelName | None, typer.Option(help="...on this channel...")] = None,
    enable: Annotated[
        bool | None, typer.Option("--enable/--disable", help="...to on or off.")
    ] = None,
    as_user_id: AsUser = None,
) -> None:
    """Show a user's notification preferences, or change one (all three of --kind, --channel
    and --enable/--disable)."""
    from services.notifications.preferences import preferences_for, set_preference

    change = (kind, channel, enable)
    if any(v is not None for v in change) and any(v is None for v in change):
        console.print("[red]error:[/red] a change needs --kind, --channel and --enable/--disable")
        raise typer.Exit(2)
    with _service(as_user_id) as (service, caller):
        engine = service.engine
        if kind is not None and channel is not None and enable is not None:
            changed = set_preference(engine, caller, user_id, kind, channel, enable)
            print(json.dumps(changed.model_dump(mode="json")))
            return
        current = preferences_for(engine, caller, user_id)
    table = Table("kind", *[c.value for c in ChannelName])
    for k in dict.fromkeys(p.kind for p in current):
        cells = {
            p.channel: ("on" if p.enabled else "off") + ("" if p.is_default else " *")
            for p in current
            if p.kind is k
        }
        table.add_row(k.value, *[cells[c] for c in ChannelName])
    Console().print(table)
    Console().print("* the user's own choice; the rest are the defaults")


@notify_app.command("bench")
def bench(
    events: Annotated[int, typer.Option(min=1, max=100_000, help="Events to handle.")] = 300,
    database_url: Annotated[
        str | None,
        typer.Option(help="An empty database to run on (default: a temporary SQLite file)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Events handled per second, duplicates refused per second, emails delivered per second
    to a local SMTP server, and the cost of a dead relay."""
    from evals.bench_notifications import run

    report = run(events=events, database_url=database_url)
    if as_json:
        print(report.model_dump_json(indent=2))
        return
    table = Table(
        "phase", "items", "seconds", "per second", title=f"notifications ({report.database})"
    )
    for name in ("handle", "duplicates", "deliver", "dead_relay"):
        phase = getattr(report, name)
        table.add_row(name, str(phase.items), f"{phase.seconds:.2f}", f"{phase.per_s:,.1f}")
    Console().print(table)
    Console().print(f"{report.queued} rows queued, {report.emails_received} emails received")
