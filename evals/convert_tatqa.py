"""TAT-QA dev as a document collection plus golden questions, for `trading-assist eval rag`.

TAT-QA (CC BY 4.0, read in place from `shared/eval-data/tatqa/`) pairs 278 excerpts of annual
reports (a table and its paragraphs) with questions. Each excerpt becomes a Markdown document
with the front matter `evals.doc_chunks` reads: `## Table` (the table in Markdown) and
`## Paragraph N` sections, so a question's evidence is a section. Its questions become golden
lines: an answer taken from one paragraph points at that paragraph; from the table, at the
table; from several places, at the document. The excerpts name no company, so a question such as
"What is the total sales in 2019?" is ambiguous across the collection: this set measures
retrieval on a large, confusable corpus, not the demo's easy one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import BaseModel

TATQA = Path(__file__).resolve().parents[2] / "shared" / "eval-data" / "tatqa"
DEV_FILE = "tatqa_dataset_dev.json"


class ConvertReport(BaseModel):
    documents: int
    questions: int
    docs_dir: str
    golden: str


def _cell(value: object) -> str:
    return str(value).replace("|", "/").replace("\n", " ").strip()


def table_markdown(rows: list[list[object]]) -> str:
    """
    >>> print(table_markdown([["", "2019"], ["Sales", "1,496.5"]]))
    |  | 2019 |
    |---|---|
    | Sales | 1,496.5 |
    """
    width = max(len(r) for r in rows)
    lines = []
    for number, row in enumerate(rows):
        cells = [_cell(c) for c in row] + [""] * (width - len(row))
        lines.append("| " + " | ".join(cells) + " |")
        if number == 0:
            lines.append("|" + "---|" * width)
    return "\n".join(lines)


def answer_text(question: dict) -> str:
    """
    >>> answer_text({"answer": ["a", "b"], "scale": ""})
    'a, b'
    >>> answer_text({"answer": 3.5, "scale": "million"})
    '3.5 million'
    """
    answer = question["answer"]
    text = ", ".join(str(a) for a in answer) if isinstance(answer, list) else str(answer)
    return f"{text} {question['scale']}".strip() if question.get("scale") else text


_AMOUNT = re.compile(r"^\(?-?[$€£]?\s*(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*%?\)?$")


def facts_of(question: dict) -> list[str]:
    """What a right answer states, for `evals.answer_facts`: each span of a span answer (an
    amount by its value), or the computed number, as given or rounded to two or one decimal.

    >>> facts_of({"answer": ["$1,234.5", "Europe"]})
    ['1234.5', 'Europe']
    >>> facts_of({"answer": 18.267})
    ['18.267|18.27|18.3']
    """
    answer = question["answer"]
    if isinstance(answer, list):
        facts = []
        for span in (str(a).strip() for a in answer):
            amount = _AMOUNT.match(span)
            facts.append(
                f"{amount.group(1).replace(',', '')}{amount.group(2) or ''}" if amount else span
            )
        return facts
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return [str(answer)]
    ways = [str(answer), f"{value:.2f}", f"{value:.1f}"]
    return ["|".join(dict.fromkeys(w.rstrip("0").rstrip(".") if "." in w else w for w in ways))]


def section_of(question: dict) -> str | None:
    """The heading holding the evidence, or None when it spans several places.

    >>> section_of({"answer_from": "text", "rel_paragraphs": ["2"]})
    'Paragraph 2'
    >>> section_of({"answer_from": "table"}), section_of({"answer_from": "table-text"})
    ('Table', None)
    """
    if question["answer_from"] == "table":
        return "Table"
    paragraphs = question.get("rel_paragraphs") or []
    if question["answer_from"] == "text" and len(paragraphs) == 1:
        return f"Paragraph {paragraphs[0]}"
    return None


def document_markdown(context: dict, stem: str) -> str:
    title = f"TAT-QA {stem.removeprefix('tatqa-')}"  # normalises like the file stem
    parts = [
        f"---\ntitle: {title}\ndoc_type: report\nvisibility: public\nformat: md\n---",
        f"# {title}",
        "## Table",
        table_markdown(context["table"]["table"]),
    ]
    for paragraph in sorted(context["paragraphs"], key=lambda p: p["order"]):
        parts += [f"## Paragraph {paragraph['order']}", paragraph["text"].strip()]
    return "\n\n".join(parts) + "\n"


def convert_tatqa(
    out_dir: Path, dataset: Path = TATQA / DEV_FILE, limit: int | None = None
) -> ConvertReport:
    """Write `out_dir/docs/tatqa-<id>.md` and `out_dir/tatqa_golden.jsonl`; the dataset is
    only read."""
    contexts = json.loads(Path(dataset).read_text(encoding="utf-8"))[:limit]
    docs = Path(out_dir) / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    golden = Path(out_dir) / "tatqa_golden.jsonl"
    questions = 0
    with golden.open("w", encoding="utf-8") as out:
        for context in contexts:
            stem = f"tatqa-{context['table']['uid'][:8]}"
            (docs / f"{stem}.md").write_text(document_markdown(context, stem), encoding="utf-8")
            for question in context["questions"]:
                line = {
                    "id": question["uid"],
                    "question": question["question"],
                    "answer": answer_text(question),
                    "source": stem,
                    "section": section_of(question),
                    "answer_type": question["answer_type"],
                    "facts": facts_of(question),
                }
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
                questions += 1
    return ConvertReport(
        documents=len(contexts), questions=questions, docs_dir=str(docs), golden=str(golden)
    )
