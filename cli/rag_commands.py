"""Commands for document retrieval: `eval rag`, `eval convert-tatqa`, `bench retrieval`.

The functions are registered on the `eval` and `bench` apps by `cli/eval_commands.py` and
`cli/bench_commands.py`; they stay thin: the work is in `evals/`.
"""

from __future__ import annotations

import asyncio
import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from services.settings import EmbeddedModel

if TYPE_CHECKING:
    from evals.bench_retrieval import RetrievalBenchReport
    from evals.rag_eval import RagEvalReport

console = Console(stderr=True, soft_wrap=True)
DEMO_SOURCES = Path(__file__).resolve().parents[1] / "services/demo_data/company_docs_src"


class Judge(StrEnum):
    NONE = "none"
    EMBEDDED = "embedded"  # the local model (embedded llama.cpp, or LLM_BASE_URL when configured)


class Chunker(StrEnum):
    HEADINGS = "headings"
    INGEST = "ingest"


class Store(StrEnum):
    FAISS = "faiss"
    QDRANT = "qdrant"


def eval_rag(
    golden: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Golden JSONL.")],
    out: Annotated[Path | None, typer.Option(help="Write the JSON report here.")] = None,
    k: Annotated[int, typer.Option(min=1, max=50, help="Passages retrieved per question.")] = 5,
    docs: Annotated[
        Path,
        typer.Option(
            exists=True,
            file_okay=False,
            help="Documents to search: Markdown with front matter, PDF, DOCX, HTML.",
        ),
    ] = DEMO_SOURCES,
    answers: Annotated[
        bool, typer.Option(help="Also answer with the RAG agent on the local model.")
    ] = True,
    judge: Annotated[
        Judge, typer.Option(help="LLM judge for ragas faithfulness and answer relevancy.")
    ] = Judge.NONE,
    model: Annotated[EmbeddedModel | None, typer.Option(help="Embedded model to use.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Questions to run.")] = None,
    seed: Annotated[int | None, typer.Option(help="Sample --limit questions with it.")] = None,
    store: Annotated[Store, typer.Option(help="Vector store.")] = Store.FAISS,
    chunker: Annotated[
        Chunker, typer.Option(help="headings: one chunk per section; ingest: the platform's.")
    ] = Chunker.HEADINGS,
    rerank: Annotated[bool, typer.Option(help="Rerank with the cross-encoder.")] = False,
) -> None:
    """Retrieval hit rate@k and MRR, ragas non-LLM context recall and precision, declines and
    access leaks; with --answers, the agent's answers (declines, citations, ragas string
    similarity); with --judge, ragas faithfulness and answer relevancy."""
    os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
    from agents.rag.agent import RagAgent
    from cli.main import _settings
    from evals.doc_chunks import read_documents
    from evals.rag_eval import (
        EmbedderEmbeddings,
        RagEvalReport,
        evaluate_answers,
        evaluate_retrieval,
        judge_answers,
        score_contexts,
        summarise,
    )
    from evals.rag_golden import load_rag_golden
    from evals.rag_index import eval_index
    from retrieval.embeddings import Embedder
    from services.llm.local import LocalModel
    from services.llm.scripted import ScriptedChatModel, replies

    settings = _settings()
    if model:
        settings = settings.model_copy(update={"embedded_model": model})
    questions = load_rag_golden(golden, limit=limit, seed=seed)
    documents = read_documents(docs, max_chars=settings.chunk_max_chars, chunker=chunker)
    embedder = Embedder()
    if judge is Judge.EMBEDDED and not answers:
        console.print("[red]error:[/red] --judge scores answers: drop --no-answers")
        raise typer.Exit(2)
    local = LocalModel(settings) if answers else None
    llm = local.start() if local else ScriptedChatModel(responder=replies("{}"))
    console.print(f"{len(questions)} questions over {len(documents)} documents")
    try:
        with eval_index(documents, settings, embedder, store=store, rerank=rerank) as index:
            agent = RagAgent(llm, index, top_k=k)
            chunks = index.chunks()
            retrieval = evaluate_retrieval(questions, index, k, agent.relevant)
            score_contexts(retrieval, questions, chunks)
            answered = []
            if answers:
                done: list[str] = []

                def progress(result) -> None:
                    done.append(result.id)
                    mark = f"declined ({result.reason})" if result.declined else "answered"
                    console.print(f"{len(done):>4}/{len(questions)} {result.id} {mark}")

                answered = asyncio.run(evaluate_answers(questions, agent, chunks, progress))
                if judge is Judge.EMBEDDED:
                    texts = {c.id: c.text for c in chunks}
                    contexts = {
                        r.id: [texts[i] for i in r.retrieved if i in texts] for r in retrieval
                    }
                    asyncio.run(
                        judge_answers(
                            answered, questions, contexts, llm, EmbedderEmbeddings(embedder)
                        )
                    )
            report = RagEvalReport(
                golden=str(golden),
                documents=len(documents),
                chunks=len(chunks),
                store=index.store.kind,
                rerank=rerank,
                model=local.description if local and answers else None,
                judge=local.description if local and judge is Judge.EMBEDDED else None,
                summary=summarise(k, retrieval, answered, questions),
                retrieval=retrieval,
                answers=answered,
            )
    finally:
        if local:
            local.close()
    _print_rag(report)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report.model_dump_json(indent=2))
        console.print(f"report written to {out}")


def _print_rag(report: RagEvalReport) -> None:
    s = report.summary
    table = Table("metric", "value", title=f"{report.golden} ({report.chunks} chunks)")
    rows = [
        (f"hit rate@{s.k}", f"{s.hit_rate:.1%} of {s.answerable}"),
        ("MRR", f"{s.mrr:.3f}"),
        ("context recall (ragas, non-LLM)", _num(s.context_recall)),
        ("context precision (ragas, non-LLM)", _num(s.context_precision)),
        (
            "must-decline declined before the model",
            f"{s.gated_must_decline:.1%} of {s.must_decline}",
        ),
        ("answerable declined before the model", f"{s.gated_answerable:.1%}"),
        ("passages leaked to a caller without access", str(s.leaks)),
        ("search p50", f"{s.search_p50_ms:.1f} ms"),
    ]
    if s.answered is not None:
        rows += [
            ("must-decline declined by the agent", f"{s.correct_declines:.1%}"),
            ("answerable declined by the agent", f"{s.false_declines:.1%}"),
            ("answers citing the gold section", f"{s.cites_gold:.1%}"),
            ("right (states every listed fact)", _pct(s.right)),
            ("right and cited", _pct(s.right_and_cited)),
            ("answers with an invented figure", str(s.invented_answers)),
            ("string similarity (ragas, non-LLM)", _num(s.string_similarity)),
            ("faithfulness (ragas, judged)", _num(s.faithfulness)),
            ("answer relevancy (ragas, judged)", _num(s.answer_relevancy)),
            ("answer latency p50", f"{s.answer_p50_s:.1f} s"),
        ]
    for row in rows:
        table.add_row(*row)
    for name, row in s.by_category.items():
        shown = [f"{int(row['questions'])} questions"]
        if "right_and_cited" in row:
            shown.append(f"right and cited {row['right_and_cited']:.1%}")
        if "declined" in row:
            shown.append(f"declined {row['declined']:.1%}")
        table.add_row(f"  {name}", ", ".join(shown))
    Console().print(table)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def convert_tatqa_command(
    out_dir: Annotated[
        Path, typer.Option(help="Folder for docs/ and tatqa_golden.jsonl (under var/).")
    ] = Path("var/tatqa"),
    dataset: Annotated[Path | None, typer.Option(help="TAT-QA dev JSON (read in place).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Contexts to convert.")] = None,
) -> None:
    """Turn TAT-QA dev into Markdown documents and golden questions for `eval rag`."""
    from evals.convert_tatqa import DEV_FILE, TATQA, convert_tatqa

    source = dataset or TATQA / DEV_FILE
    if not source.exists():
        console.print(f"[red]error:[/red] no TAT-QA data at {source}")
        raise typer.Exit(2)
    report = convert_tatqa(out_dir, source, limit=limit)
    print(report.model_dump_json())
    console.print(
        f"try: trading-assist eval rag --docs {report.docs_dir} --golden {report.golden} "
        "--no-answers"
    )


def bench_retrieval(
    sizes: Annotated[
        str, typer.Option(help="Comma-separated collection sizes to time queries at.")
    ] = "10000,100000",
    queries: Annotated[int, typer.Option(min=20, help="Timed queries per size.")] = 200,
    embed_texts: Annotated[int, typer.Option(min=8, help="Texts per embedding round.")] = 128,
    rounds: Annotated[int, typer.Option(min=1, help="Embedding rounds; the best counts.")] = 3,
    recall: Annotated[
        bool, typer.Option(help="Measure HNSW recall@10 at the largest size.")
    ] = True,
    paragraphs: Annotated[
        int, typer.Option(min=10, help="Real paragraphs the synthetic chunks are built from.")
    ] = 2000,
    ingest: Annotated[bool, typer.Option(help="Measure ingestion pages/s (PDF, DOCX).")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Embedding throughput beside raw sentence-transformers, hybrid query p50 (query
    embedding included) per size, HNSW recall@10; exit 1 when a target is missed."""
    from cli.main import _settings
    from evals.bench_retrieval import run

    try:
        wanted = [int(s.replace("_", "")) for s in sizes.split(",") if s.strip()]
    except ValueError:
        console.print(f"[red]error:[/red] --sizes must be numbers, got {sizes!r}")
        raise typer.Exit(2) from None
    settings = _settings()
    report = run(
        settings.var_dir / "bench" / "retrieval",
        wanted,
        queries=queries,
        embed_texts=embed_texts,
        rounds=rounds,
        hnsw_threshold=settings.faiss_hnsw_threshold,
        recall=recall,
        paragraphs=paragraphs,
        ingest=ingest,
        log=lambda message: console.print(message),
    )
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        _print_bench(report)
    raise typer.Exit(0 if report.within_targets else 1)


def _print_bench(report: RetrievalBenchReport) -> None:
    out = Console()
    e = report.embedding
    out.print(
        f"embedding: Embedder {e.embedder_per_s:,.1f} texts/s, raw encode {e.raw_per_s:,.1f} "
        f"texts/s, ratio {e.ratio:.2f} ({'ok' if e.within else 'below'} the 0.9 target)"
    )
    table = Table(
        "chunks",
        "store",
        "build s",
        "p50 ms",
        "p95 ms",
        "embed p50 ms",
        "target",
        title="hybrid query",
    )
    for q in report.queries:
        verdict = (
            "-" if q.target_ms is None else f"{q.target_ms:g} ms {'ok' if q.within else 'MISSED'}"
        )
        table.add_row(
            f"{q.size:,}",
            q.store,
            f"{q.build_s}",
            f"{q.p50_ms}",
            f"{q.p95_ms}",
            f"{q.embed_p50_ms}",
            verdict,
        )
    out.print(table)
    if report.hnsw:
        h = report.hnsw
        out.print(
            f"HNSW recall@10 {h.recall_at_10:.3f} on {h.size:,} vectors (M={h.hnsw_m}, "
            f"efSearch={h.ef_search}, build {h.build_s} s): {'ok' if h.within else 'below 0.95'}"
        )
    for timing in report.ingestion:
        out.print(
            f"ingestion {timing.format}: {timing.pages_per_s:.2f} pages/s ({timing.pages} pages)"
        )
    for note in report.notes:
        out.print(f"note: {note}")
