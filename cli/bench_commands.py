"""`trading-assist bench ...`: speed measurements that print numbers to compare run to run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.auth_commands import bench_auth
from cli.market_commands import bench_marketdata
from cli.rag_commands import bench_retrieval
from cli.routing_commands import bench_routing
from cli.trading_commands import bench_order_turn

bench_app = typer.Typer(help="Benchmarks: how fast the parts are.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)
bench_app.command("routing")(bench_routing)
bench_app.command("retrieval")(bench_retrieval)
bench_app.command("marketdata")(bench_marketdata)
bench_app.command("auth")(bench_auth)
bench_app.command("order-turn")(bench_order_turn)


@bench_app.command("guard")
def bench_guard(
    rounds: Annotated[int, typer.Option(min=1, help="Timed rounds per side; the best counts.")] = 7,
    corpus: Annotated[
        Path | None,
        typer.Option(file_okay=False, help="Folder of guard case files (default: the fixtures)."),
    ] = None,
    budget: Annotated[
        float, typer.Option(min=1.0, help="Most the guard may cost, in bare parses.")
    ] = 3.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Guard checks per second over the fixture corpus, beside sqlglot.parse_one alone on the
    same statements; exit 1 when the guard costs more than --budget parses."""
    from evals.bench_guard import CORPUS, load_corpus, run

    try:
        statements = load_corpus(corpus or CORPUS)
    except FileNotFoundError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    report = run(statements, rounds=rounds, budget=budget)
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        table = Table(
            "statements",
            "count",
            "guard checks/s",
            "parse_one/s",
            "ratio",
            title=f"SQL guard vs bare parse (best of {report.rounds} rounds)",
        )
        for label, timing in (("whole corpus", report.corpus), ("allowed only", report.allowed)):
            if timing is not None:
                table.add_row(
                    label,
                    str(timing.statements),
                    f"{timing.guard_per_s:,.0f}",
                    f"{timing.parse_per_s:,.0f}",
                    f"{timing.ratio:.2f}x",
                )
        out = Console()
        out.print(table)
        verdict = "within" if report.within_budget else "[red]over[/red]"
        out.print(f"guard / parse = {report.corpus.ratio:.2f}x, {verdict} the {budget:g}x budget")
        if report.mismatches:
            out.print(f"[red]{report.mismatches} verdicts differ from the case files[/red]")
    raise typer.Exit(0 if report.within_budget and not report.mismatches else 1)


@bench_app.command("api")
def bench_api(
    turns: Annotated[int, typer.Option(min=5, help="Timed chat turns per server.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Chat turns per second and p50/p99 over real HTTP on 127.0.0.1 with the scripted model
    on the SQL path, beside a bare FastAPI endpoint; exit 1 when the platform's own overhead
    per turn (p50 difference) is over 15 ms."""
    from evals.bench_api import run

    report = run(turns)
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        table = Table(
            "server",
            "turns",
            "turns/s",
            "p50 ms",
            "p99 ms",
            "mean ms",
            "CPU ms/turn",
            title=report.question,
        )
        for label, timing in (
            ("platform POST /v1/chat", report.platform),
            ("bare FastAPI", report.bare),
        ):
            table.add_row(
                label,
                str(timing.turns),
                f"{timing.per_s:,.1f}",
                f"{timing.p50_ms:.2f}",
                f"{timing.p99_ms:.2f}",
                f"{timing.mean_ms:.2f}",
                f"{timing.cpu_ms:.2f}",
            )
        out = Console()
        out.print(table)
        verdict = "within" if report.within_budget else "[red]over[/red]"
        out.print(
            f"platform overhead per turn: {report.overhead_ms:.2f} ms p50 ({report.ratio:.2f}x "
            f"the bare endpoint), {verdict} the {report.budget_ms:g} ms budget; "
            f"{report.overhead_cpu_ms:.2f} ms of CPU"
        )
    raise typer.Exit(0 if report.within_budget else 1)


@bench_app.command("trading")
def bench_trading(
    orders: Annotated[int, typer.Option(min=10, help="Orders placed one after another.")] = 200,
    threads: Annotated[int, typer.Option(min=2, help="Threads racing on one account.")] = 4,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Orders, previews and portfolios per second on a throwaway demo database, and a race on
    one account funded for half the orders; exit 1 if the race accepts more or fewer."""
    from evals.bench_trading import run_on_sqlite

    report = run_on_sqlite(orders=orders, threads=threads)
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        table = Table("call", "count", "per s", "p50 ms", "p95 ms", title="Trading service")
        for label, timing in (
            ("place market order", report.place_market),
            ("preview order", report.preview),
            ("portfolio", report.portfolio),
        ):
            table.add_row(
                label,
                str(timing.calls),
                f"{timing.per_s:,.0f}",
                f"{timing.p50_ms:.1f}",
                f"{timing.p95_ms:.1f}",
            )
        out = Console()
        out.print(table)
        race = report.contention
        out.print(
            f"{race.threads} threads, {race.attempts} orders on one account funded for "
            f"{race.affordable}: {race.accepted} accepted, {race.refused} refused, "
            f"{race.per_s:,.0f} decided/s, cash left {race.final_cash:,.2f}"
        )
    raise typer.Exit(0 if report.correct else 1)


@bench_app.command("outbox")
def bench_outbox(
    events: Annotated[int, typer.Option("--events", min=1, help="Events per measurement.")] = 2000,
    amqp_url: Annotated[
        str | None,
        typer.Option(help="RabbitMQ to measure (default: MESSAGE_BUS_URL if amqp, else local)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Events/s from commit to delivery through the outbox, beside publishing straight to the
    bus, on the in-process bus and on RabbitMQ; exit 1 when a bus could not be measured."""
    from cli.main import _settings
    from evals.bench_outbox import run

    settings = _settings()
    if amqp_url is None:
        bus_url = settings.message_bus_url
        amqp_url = bus_url if bus_url.startswith("amqp") else "amqp://guest:guest@127.0.0.1:5672/"
    report = run(events, amqp_url=amqp_url, batch_size=settings.events_batch_size)
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        table = Table(
            "bus",
            "events",
            "outbox events/s",
            "direct events/s",
            "ratio",
            "latency p50 ms",
            "p95 ms",
            title=f"commit to delivery, {report.database}, batches of {report.batch_size}",
        )
        for result in report.results:
            if result.error:
                table.add_row(result.bus, str(result.events), f"[red]{result.error}[/red]")
                continue
            table.add_row(
                result.bus,
                str(result.events),
                f"{result.outbox_per_s:,.0f}",
                f"{result.direct_per_s:,.0f}",
                f"{result.ratio:.2f}x",
                f"{result.latency_p50_ms:,.1f}",
                f"{result.latency_p95_ms:,.1f}",
            )
        Console().print(table)
    raise typer.Exit(1 if any(result.error for result in report.results) else 0)
