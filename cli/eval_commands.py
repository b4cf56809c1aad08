"""`trading-assist eval ...`: measurements that print numbers, run by hand or in a schedule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.rag_commands import convert_tatqa_command, eval_rag
from cli.routing_commands import eval_routing
from services.settings import EmbeddedModel

if TYPE_CHECKING:
    from evals.sql_eval import EvalReport, QuestionResult

eval_app = typer.Typer(
    help="Evaluations: accuracy and latency on golden sets.", no_args_is_help=True
)
console = Console(stderr=True, soft_wrap=True)
eval_app.command("routing")(eval_routing)
eval_app.command("rag")(eval_rag)
eval_app.command("convert-tatqa")(convert_tatqa_command)
SPIDER = Path(__file__).resolve().parents[2] / "shared/eval-data/spider_dev"


@eval_app.command("sql")
def eval_sql(
    golden: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Golden JSONL.")],
    db_dir: Annotated[
        Path,
        typer.Option(
            exists=True, file_okay=False, help="Folder the golden `db` paths are relative to."
        ),
    ],
    model: Annotated[EmbeddedModel | None, typer.Option(help="Embedded model to use.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Questions to run.")] = None,
    seed: Annotated[
        int | None, typer.Option(help="Sample --limit questions with this seed.")
    ] = None,
    baseline: Annotated[
        bool, typer.Option(help="Also run the plain schema+question prompt.")
    ] = False,
    samples: Annotated[int, typer.Option(min=1, help="Drafts per question (voting).")] = 1,
    linking: Annotated[bool, typer.Option(help="Schema linking and example memory.")] = True,
    out: Annotated[Path | None, typer.Option(help="Write the JSON report here.")] = None,
) -> None:
    """Execution accuracy, per-category breakdown and latency of the NL->SQL pipeline."""
    from cli.main import _settings
    from evals.golden import load_golden
    from evals.sql_eval import EvalReport, run, summarise
    from graphs.assistant import PLATFORM_TERMS, platform_notes
    from retrieval.embeddings import Embedder
    from services.demo_data.generator import seed_examples
    from services.llm.local import LocalModel

    settings = _settings()
    if model:
        settings = settings.model_copy(update={"embedded_model": model})
    questions = load_golden(golden, limit=limit, seed=seed)
    local = LocalModel(settings)
    llm = local.start()
    tally: dict[str, list[bool]] = {"pipeline": [], "baseline": []}

    def progress(contender: str, result: QuestionResult) -> None:
        tally[contender].append(result.correct)
        mark = "ok" if result.correct else "XX"
        console.print(
            f"{contender:>8} {len(tally[contender]):>4}/{len(questions)} {mark} {result.id} "
            f"{result.latency_s:5.1f}s  {sum(tally[contender])} right"
        )

    try:
        piped, based = run(
            questions,
            db_dir,
            llm,
            embedder=Embedder() if linking else None,
            baseline=baseline,
            samples=samples,
            notes=platform_notes,
            terms=PLATFORM_TERMS,
            memory_examples=[(e["question"], e["sql"]) for e in seed_examples(None)],
            progress=progress,
        )
    finally:
        local.close()
    report = EvalReport(
        golden=str(golden),
        model=local.description,
        questions=len(questions),
        pipeline=summarise("pipeline", piped),
        baseline=summarise("baseline", based) if baseline else None,
        pipeline_results=piped,
        baseline_results=based,
    )
    if report.baseline:
        report.gain = round(report.pipeline.accuracy - report.baseline.accuracy, 4)
    _print(report)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report.model_dump_json(indent=2))
        console.print(f"report written to {out}")


def _print(report: EvalReport) -> None:
    out = Console()
    runs = [r for r in (report.pipeline, report.baseline) if r]
    table = Table("", *[r.name for r in runs], title=f"{report.golden} ({report.model})")
    table.add_row(
        "execution accuracy", *[f"{r.accuracy:.1%} ({r.correct}/{r.total})" for r in runs]
    )
    table.add_row("latency p50", *[f"{r.latency_p50_s:.2f} s" for r in runs])
    table.add_row("latency p95", *[f"{r.latency_p95_s:.2f} s" for r in runs])
    for category in report.pipeline.by_category:
        table.add_row(
            f"  {category}",
            *[
                f"{r.by_category.get(category, {}).get('accuracy', 0):.0%} "
                f"({r.by_category.get(category, {}).get('correct', 0)}"
                f"/{r.by_category.get(category, {}).get('total', 0)})"
                for r in runs
            ],
        )
    out.print(table)
    if report.gain is not None:
        out.print(
            f"gain over baseline: {report.gain:+.1%} "
            f"(ratio {report.pipeline.accuracy / max(report.baseline.accuracy, 1e-9):.2f}x)"
        )


@eval_app.command("convert-spider")
def convert_spider_command(
    out: Annotated[Path, typer.Option(help="Golden JSONL to write.")] = Path(
        "var/golden/spider_dev.jsonl"
    ),
    dev_json: Annotated[Path, typer.Option(exists=True)] = SPIDER / "dev.json",
    database_dir: Annotated[Path, typer.Option(exists=True)] = SPIDER / "database",
) -> None:
    """Turn Spider dev into a golden JSONL (the data stays in shared/; this writes questions)."""
    from evals.convert_spider import convert_spider

    out.parent.mkdir(parents=True, exist_ok=True)
    written = convert_spider(dev_json, database_dir, out)
    Console().print(json.dumps({"written": written, "out": str(out), "db_dir": str(database_dir)}))
