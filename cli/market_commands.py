"""Market data from the command line: `market load FILE` and `bench marketdata`.

`bench_marketdata` is registered by `cli.bench_commands`; `market_app` by `cli.main`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from services.errors import AssistantError

console = Console(stderr=True, soft_wrap=True)
market_app = typer.Typer(help="Market data: quotes, bars and alerts.", no_args_is_help=True)


@market_app.command("load")
def load(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or SQLite.")],
    table: Annotated[
        str | None, typer.Option(help="Bar table of a SQLite file that has several.")
    ] = None,
    bar_seconds: Annotated[
        int | None, typer.Option(min=1, help="Bar length (default: the shortest gap).")
    ] = None,
) -> None:
    """Replay a bar file through the price pipeline into quotes and 1m/1h/1d bars; working
    orders and alerts it crosses fire. A malformed file is refused whole (exit 2)."""
    from cli.main import _settings
    from services.db.engines import make_engine
    from services.db.migrate import upgrade
    from services.market.loader import load_bar_file
    from services.market.service import MarketData

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        market = MarketData(engine, settings)
        try:
            events = load_bar_file(file, market.symbols, table=table, bar_seconds=bar_seconds)
            applied = market.ingest(events)
        except AssistantError as exc:
            console.print(f"[red]error:[/red] {exc.message}")
            raise typer.Exit(2) from None
    finally:
        engine.dispose()
    Console().print(
        f"{len(events):,} events: {applied.quotes:,} quote updates, {applied.bars:,} bar "
        f"updates, {applied.alerts_fired} alerts fired, {applied.orders_triggered} orders "
        "triggered"
    )


def bench_marketdata(
    events: Annotated[
        int, typer.Option(min=1000, help="Events to replay (the real data, tiled).")
    ] = 10_000_000,
    batch: Annotated[int, typer.Option(min=1, help="Events per vectorised batch.")] = 65_536,
    plain_events: Annotated[
        int, typer.Option(min=1000, help="Events the plain Python loop runs (its sample).")
    ] = 500_000,
    copy_shift_s: Annotated[
        int, typer.Option(min=0, help="Copy k of the real data runs k times this late (s).")
    ] = 1,
    target: Annotated[
        float, typer.Option(min=0, help="Events/s the vectorised pipeline must reach.")
    ] = 5_000_000,
    sample_file: Annotated[
        Path | None,
        typer.Option(dir_okay=False, help="The public trading sample (default: found nearby)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Events/s and per-batch latency of the vectorised price pipeline over the real bars and
    trades of the public sample, beside the plain Python loop on a sample of them; exit 1 when
    the two end states differ or the rate is under --target."""
    from evals.bench_marketdata import find_sample, run

    sample = sample_file or find_sample()
    if sample is None or not sample.is_file():
        console.print("[red]error:[/red] the trading sample is not found; pass --sample-file")
        raise typer.Exit(2)
    report = run(
        sample,
        events=events,
        batch=batch,
        plain_events=plain_events,
        target=target,
        copy_shift_s=copy_shift_s,
    )
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        out = Console()
        table = Table(
            "",
            "events",
            "seconds",
            "events/s",
            "batch p50",
            "batch p99",
            title=f"price pipeline: {report.events:,} events ({report.tiles} copies of "
            f"{report.base_events:,} real ones), {report.symbols} symbols, "
            f"{report.triggers:,} triggers, batches of {report.batch:,}, copies "
            f"{report.copy_shift_s} s apart",
        )
        table.add_row(
            "vectorised (numpy)",
            f"{report.events:,}",
            f"{report.seconds:.3f}",
            f"{report.events_per_s:,.0f}",
            f"{report.batch_p50_ms:.2f} ms",
            f"{report.batch_p99_ms:.2f} ms",
        )
        table.add_row(
            "plain Python loop",
            f"{report.plain_events:,}",
            f"{report.plain_seconds:.3f}",
            f"{report.plain_events_per_s:,.0f}",
            "",
            "",
        )
        out.print(table)
        out.print(
            f"vectorised / plain = {report.ratio:.1f}x; the plain loop would take "
            f"{report.plain_extrapolated_s:.1f} s for all events"
        )
        out.print(f"fired {report.fired:,} triggers, emitted {report.bars:,} bar updates")
        verdict = "meets" if report.meets_target else "[red]misses[/red]"
        out.print(f"{report.events_per_s:,.0f} events/s {verdict} the {target:,.0f} target")
        if report.same_end_state:
            out.print(
                f"same end state as the plain loop on its {report.plain_events:,} events "
                f"({report.sample_bars:,} bars, {report.sample_fired:,} fired triggers)"
            )
        else:
            out.print("[red]end states differ:[/red] " + "; ".join(report.differences))
    raise typer.Exit(0 if report.same_end_state and report.meets_target else 1)
