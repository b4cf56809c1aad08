"""`trading-assist bench ...`: speed measurements that print numbers to compare run to run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.rag_commands import bench_retrieval
from cli.routing_commands import bench_routing

bench_app = typer.Typer(help="Benchmarks: how fast the parts are.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)
bench_app.command("routing")(bench_routing)
bench_app.command("retrieval")(bench_retrieval)


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
