"""The router from the command line: `route`, `eval routing` and `bench routing`.

The command functions live here and are registered by `cli.main`, `cli.eval_commands` and
`cli.bench_commands`. The routing policy is `--policy FILE`, else the `ROUTING_POLICY_FILE`
setting, else the packaged `agents/routing/policy.yaml`; the vocabulary is the
`ROUTING_VOCABULARY_FILE` setting's, else the packaged `agents/routing/vocabulary.yaml`.

Instruments are named by the symbols the platform lists: `route` reads them from the platform's
database; `eval routing` and `bench routing` take the demo's, which the golden sets were
written against.

With the embedding model (the default) the router weighs evidence: `route` searches the
platform's own document index and matches the schema; `eval routing` and `bench routing` use
the demo documents and the demo schema the golden sets were written against.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from services.identity import Role

if TYPE_CHECKING:
    from agents.routing.policy import RoutingPolicy
    from agents.routing.vocabulary import RoutingVocabulary
    from evals.routing_eval import RoutingEvalReport

console = Console(stderr=True, soft_wrap=True)
GOLDEN = Path(__file__).resolve().parents[1] / "evals" / "golden" / "routing.jsonl"

PolicyOption = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        exists=True,
        dir_okay=False,
        help="Routing policy YAML (default: ROUTING_POLICY_FILE, else the packaged one).",
    ),
]
EmbeddingsOption = Annotated[
    bool,
    typer.Option(
        "--embeddings/--rules-only",
        help="Weigh what the documents and the database hold, and ask the embedding "
        "classifier when the rules are unsure (loads a small model).",
    ),
]


def _policy(path: Path | None) -> tuple[RoutingPolicy, str]:
    from agents.routing.policy import RoutingPolicyError, load_routing_policy
    from cli.main import _settings

    path = path or _settings().routing_policy_file
    try:
        return load_routing_policy(path), str(path or "packaged")
    except RoutingPolicyError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


def _vocabulary() -> RoutingVocabulary:
    from agents.routing.vocabulary import RoutingVocabularyError, load_routing_vocabulary
    from cli.main import _settings

    try:
        return load_routing_vocabulary(_settings().routing_vocabulary_file)
    except RoutingVocabularyError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


def _platform_symbols() -> list[str]:
    """The instruments the platform's database lists; none (said on stderr) without one."""
    from sqlalchemy.exc import SQLAlchemyError

    from cli.main import _settings
    from services.db.engines import make_replica_engine
    from services.trading.instruments import listed_symbols

    settings = _settings()
    engine = make_replica_engine(settings.read_replica_url, settings.sql_timeout_s)
    try:
        return listed_symbols(engine)
    except SQLAlchemyError:
        console.print(
            "note: no instruments table in the database, so only the vocabulary's everyday "
            "names of instruments are known (run `trading-assist demo-data`)"
        )
        return []
    finally:
        engine.dispose()


def _embedder(enabled: bool):  # noqa: ANN202 - retrieval.embeddings.Embedder or None
    if not enabled:
        return None
    from retrieval.embeddings import Embedder

    return Embedder()


def _platform_evidence(embedder):  # noqa: ANN001, ANN202 - Embedder -> RoutingEvidence
    """The platform's own document index and schema, as the assistant weighs them."""
    from agents.routing.evidence import RoutingEvidence
    from cli.main import _settings
    from graphs.build import INTERNAL_TABLES
    from retrieval.embeddings import MultilingualEmbedder
    from retrieval.factory import open_document_index
    from retrieval.schema_evidence import SchemaEvidence
    from services.catalog import catalog_from_metadata
    from services.db.models import Base
    from services.semantic.loader import load_semantic_model

    settings = _settings()
    catalog = catalog_from_metadata(Base.metadata).without(INTERNAL_TABLES)
    semantic = load_semantic_model(settings.semantic_model_file)
    index = open_document_index(settings, embedder)
    schema = SchemaEvidence(embedder, catalog, semantic, multilingual=MultilingualEmbedder())
    return RoutingEvidence(index, schema)


def route(
    question: Annotated[str, typer.Argument(help="The request, in plain language.")],
    role: Annotated[Role, typer.Option(help="The caller's role.")] = Role.CUSTOMER,
    user_id: Annotated[int | None, typer.Option(help="The caller's user id.")] = None,
    policy: PolicyOption = None,
    embeddings: EmbeddingsOption = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON.")] = False,
) -> None:
    """Label one request (type, sensitivity, complexity), pick its provider, and say why."""
    from agents.routing.router import Router
    from services.identity import Caller

    routing_policy, _ = _policy(policy)
    vocabulary = _vocabulary()
    embedder = _embedder(embeddings)
    evidence = _platform_evidence(embedder) if embedder is not None else None
    router = Router(
        routing_policy, embedder, evidence, vocabulary=vocabulary, symbols=_platform_symbols()
    )
    decision = router.route(question, Caller(user_id=user_id, role=role))
    if as_json:
        print(decision.model_dump_json(indent=2))
        return
    out = Console()
    out.print(
        f"[bold]{decision.provider}[/bold]  type {decision.query_type}, "
        f"{decision.sensitivity}, {decision.complexity}"
    )
    if len(decision.parts) > 1:
        for part in decision.parts:
            out.print(f"  part: {part.query_type} / {part.sensitivity}: {part.text}")
    for reason in decision.reasons:
        out.print(f"  - {reason}")


def eval_routing(
    golden: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="Routing golden JSONL.")
    ] = GOLDEN,
    out: Annotated[Path | None, typer.Option(help="Write the JSON report here.")] = None,
    policy: PolicyOption = None,
    embeddings: EmbeddingsOption = True,
    misses: Annotated[int, typer.Option(min=0, help="How many misses to list.")] = 25,
) -> None:
    """Accuracy and confusion matrices of the router's labels on a golden set, and how many
    confidential requests would reach a cloud provider (exit 1 unless that is 0)."""
    from agents.routing.router import Router
    from evals.routing_eval import RoutingGoldenError, load_routing_golden, run
    from services.demo_data.market import SYMBOLS

    routing_policy, policy_name = _policy(policy)
    vocabulary = _vocabulary()
    try:
        cases = load_routing_golden(golden)
    except RoutingGoldenError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    from cli.main import _settings
    from evals.routing_eval import demo_evidence

    embedder = _embedder(embeddings)
    with ExitStack() as stack:
        evidence = (
            stack.enter_context(demo_evidence(embedder, _settings()))
            if embedder is not None
            else None
        )
        router = Router(routing_policy, embedder, evidence, vocabulary=vocabulary, symbols=SYMBOLS)
        report = run(cases, router, golden=str(golden), policy=policy_name)
    _print_eval(report, misses)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report.model_dump_json(indent=2))
        console.print(f"report written to {out}")
    raise typer.Exit(1 if report.confidential_to_cloud else 0)


def _print_eval(report: RoutingEvalReport, misses: int) -> None:
    out = Console()
    mode = "rules + embeddings" if report.embeddings else "rules only"
    mode += " + evidence" if report.evidence else ""
    table = Table("label", "accuracy", title=f"{report.golden} ({report.questions}, {mode})")
    for label, score in report.labels.items():
        table.add_row(label, f"{score.accuracy:.1%} ({score.correct}/{score.total})")
    table.add_row("all three labels", f"{report.all_three_correct:.1%}")
    table.add_row("part types", f"{report.parts_correct:.1%} (compound {report.compound_found})")
    table.add_row("asked the embeddings", f"{report.embedding_share:.1%}")
    out.print(table)
    for label, score in report.labels.items():
        names = list(score.confusion)
        matrix = Table("gold \\ predicted", *names, title=f"confusion: {label}")
        for gold, row in score.confusion.items():
            matrix.add_row(gold, *[str(row[n]) if row[n] else "." for n in names])
        out.print(matrix)
    leaks = report.confidential_to_cloud
    shown = (
        f"[red]{leaks}[/red] {report.confidential_to_cloud_ids}" if leaks else "[green]0[/green]"
    )
    out.print(f"confidential requests sent to the cloud: {shown}")
    out.print(f"labelled less sensitive than gold: {len(report.sensitivity_too_low)}")
    wrong = [r for r in report.results if not r.correct][:misses]
    for result in wrong:
        diffs = ", ".join(
            f"{k} {result.gold[k]}->{result.predicted[k]}"
            for k in ("query_type", "sensitivity", "complexity")
            if result.gold[k] != result.predicted[k]
        )
        out.print(f"  miss {result.id} ({result.role}): {diffs}: {json.dumps(result.question)}")


def bench_routing(
    golden: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="Questions to route (golden JSONL).")
    ] = GOLDEN,
    rounds: Annotated[
        int, typer.Option(min=1, help="Timed rounds; each question's best counts.")
    ] = 5,
    budget_ms: Annotated[
        float, typer.Option(min=0.01, help="Most a cold routing decision may take at p50.")
    ] = 5.0,
    policy: PolicyOption = None,
    embeddings: EmbeddingsOption = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Routing latency p50/p95 (cold and warm), the share of decisions that asked the
    embedding classifier, and the ratio to the embedding classifier alone; exit 1 when the
    cold p50 is over --budget-ms."""
    from cli.main import _settings
    from evals.bench_routing import run
    from evals.routing_eval import load_routing_golden
    from retrieval.embeddings import Embedder

    routing_policy, _ = _policy(policy)
    vocabulary = _vocabulary()
    embedder = Embedder()
    report = run(
        load_routing_golden(golden),
        routing_policy,
        embedder,
        vocabulary=vocabulary,
        model=embedder.model,
        use_embeddings=embeddings,
        rounds=rounds,
        budget_ms=budget_ms,
        settings=_settings(),
    )
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        mode = "rules + embeddings" if report.embeddings else "rules only"
        mode += " + evidence" if report.evidence else ""
        title = f"routing {report.questions} questions, {mode}, best of {report.rounds} rounds"
        table = Table("", "p50", "p95", "mean", "max", title=title)
        for name, timing in (
            ("router, cold cache", report.cold),
            ("router, warm cache", report.warm),
            ("embedding classifier alone", report.baseline),
        ):
            table.add_row(
                name,
                *[
                    f"{v:.3f} ms"
                    for v in (timing.p50_ms, timing.p95_ms, timing.mean_ms, timing.max_ms)
                ],
            )
        out = Console()
        out.print(table)
        out.print(f"asked the embedding classifier: {report.embedding_share:.1%} of decisions")
        verdict = "within" if report.within_budget else "[red]over[/red]"
        out.print(
            f"router / embedding classifier alone = {report.ratio:.3f}x at p50; cold p50 "
            f"{report.cold.p50_ms:.3f} ms, {verdict} the {report.budget_ms:g} ms budget"
        )
    raise typer.Exit(0 if report.within_budget else 1)
