"""`trading-assist eval ...`: measurements that print numbers, run by hand or in a schedule."""

from __future__ import annotations

import asyncio
import json
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.rag_commands import convert_tatqa_command, eval_rag
from cli.routing_commands import eval_routing
from services.settings import EmbeddedModel

# Processing a 4,700-token schema prompt cold took 61 to 77 s on two cores, and 135 s on a slower
# day, past the 120 s request bound: a fresh clone's first `eval sql` stopped at its warm-up.
EVAL_PRIME_TIMEOUT_S = 900.0

if TYPE_CHECKING:
    from evals.golden import GoldenQuestion
    from evals.sql_eval import EvalReport, QuestionResult
    from services.settings import Settings

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
    metric_path: Annotated[
        bool | None,
        typer.Option(
            help="Aggregate questions through the semantic model's measures first "
            "(default: SQL_METRIC_PATH)."
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the JSON report here.")] = None,
) -> None:
    """Execution accuracy, per-category breakdown and latency of the NL->SQL pipeline. A set
    whose lines follow one another (`follows`) is asked as conversations through the assistant,
    each in its own thread, and scored per turn and per pair."""
    from cli.main import _settings
    from evals.golden import load_golden
    from evals.sql_eval import EvalReport, run, summarise
    from graphs.build import platform_notes
    from retrieval.embeddings import Embedder
    from services.demo_data.generator import seed_examples
    from services.llm.local import LocalModel
    from services.semantic.loader import load_semantic_model

    settings = _settings()
    if model:
        settings = settings.model_copy(update={"embedded_model": model})
    questions = load_golden(golden, limit=limit, seed=seed)
    if any(q.follows for q in questions):
        if baseline or limit or samples != 1 or not linking:
            console.print(
                "[red]error:[/red] a set with follow-ups is asked as whole conversations through "
                "the assistant: --baseline, --limit, --samples and --no-linking do not apply"
            )
            raise typer.Exit(2)
        _eval_conversations(settings, questions, golden, db_dir, out)
        return
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
            semantic=load_semantic_model(settings.semantic_model_file),
            metric_path=settings.sql_metric_path if metric_path is None else metric_path,
            examples=settings.sql_examples,
            memory_examples=[(e["question"], e["sql"]) for e in seed_examples(None)],
            progress=progress,
            primer=partial(local.prime, timeout_s=EVAL_PRIME_TIMEOUT_S),
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


def _eval_conversations(
    settings: Settings,
    questions: list[GoldenQuestion],
    golden: Path,
    db_dir: Path,
    out: Path | None,
) -> None:
    """`eval sql` for a set with follow-ups: every conversation in a thread of the assistant
    (the platform's router, agents and history) on DATABASE_URL, which must be the set's
    database."""
    from sqlalchemy.engine import make_url

    from cli.main import _assistant
    from evals.followup_eval import (
        ConversationReport,
        Reply,
        conversations,
        run_conversations,
        summarise_conversations,
    )
    from evals.golden import GoldenFileError
    from evals.sql_eval import open_database, summarise
    from services.db.engines import make_engine
    from services.errors import AssistantError
    from services.llm.local import LocalModel
    from services.users import caller_for

    try:
        chains = conversations(questions)
    except GoldenFileError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    names = {q.db for q in questions}
    served = make_url(settings.database_url).database
    path = db_dir / sorted(names)[0]
    if len(names) != 1 or not served or path.resolve() != Path(served).resolve():
        console.print(
            f"[red]error:[/red] follow-ups are asked through the assistant, which reads "
            f"DATABASE_URL ({settings.database_url}); the set's database ({path}) must be it"
        )
        raise typer.Exit(2)
    engine = make_engine(settings.database_url)
    try:
        callers = {uid: caller_for(engine, uid) for uid in {q.user_id for q in questions}}
    except AssistantError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    db = open_database(path)
    local = LocalModel(settings)
    done: list[bool] = []

    def progress(result: QuestionResult) -> None:
        done.append(result.correct)
        console.print(
            f"{len(done):>4}/{len(questions)} {'ok' if result.correct else 'XX'} {result.id} "
            f"{result.latency_s:5.1f}s  {sum(done)} right"
        )

    async def work() -> list[QuestionResult]:
        assistant = _assistant(settings, local)
        try:
            await assistant.warm_up(list(callers.values()))

            async def ask(text: str, user_id: int | None, thread: str | None) -> Reply:
                answer = await assistant.ask(text, callers[user_id], thread)
                return Reply(
                    answer=answer.answer,
                    sql=answer.sql,
                    rows=list(answer.rows),
                    thread_id=answer.thread_id,
                )

            return await run_conversations(chains, ask, db, progress)
        finally:
            await assistant.aclose()

    try:
        results = asyncio.run(work())
    finally:
        local.close()
        db.engine.dispose()
    report = ConversationReport(
        golden=str(golden),
        model=local.description,
        questions=len(questions),
        pipeline=summarise("assistant", results),
        pipeline_results=results,
        conversation_summary=summarise_conversations(chains, results),
    )
    _print(report)
    c = report.conversation_summary
    Console().print(
        f"conversations right: {c.pairs_right}/{c.conversations}; first turns "
        f"{c.first_turns_right}/{c.conversations}, follow-ups {c.followups_right}/{c.followups}"
    )
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
