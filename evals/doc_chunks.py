"""Markdown documents with front matter, cut into chunks by heading, for retrieval evals.

The platform's ingestion (`retrieval.ingest`: docling conversion, chunking, the documents
tables) is the real path; this reader exists so retrieval can be measured on the demo documents
and on converted TAT-QA without a database. Each file starts with front matter (`title`,
`doc_type`, `visibility`), as `services/demo_data/company_docs_src/*.md` do. Every `##` section
becomes one chunk (split at paragraph boundaries when longer than `max_chars`), its heading path
"Document heading > Section" in `Chunk.section`.

A folder may also hold PDF, DOCX and HTML files (the unseen-documents set): they have no front
matter, so they are converted and cut by the platform's ingestion whatever the chunker, titled
as `trading-assist ingest` titles them without `--title` (the title the file states, else its
name) and public.

>>> import tempfile
>>> text = "---\\ntitle: Fees\\ndoc_type: faq\\nvisibility: public\\n---\\n# Fees\\n\\nIntro.\\n\\n"
>>> text += "## Crypto\\n\\nCrypto costs 0.25%.\\n"
>>> with tempfile.TemporaryDirectory() as tmp:
...     _ = (Path(tmp) / "fees.md").write_text(text)
...     doc = read_documents(Path(tmp))[0]
>>> [(c.section, c.text) for c in doc.chunks]
[('Fees', 'Intro.'), ('Fees > Crypto', 'Crypto costs 0.25%.')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from retrieval.chunks import Chunk, DocumentAccess, Visibility

DEMO_SOURCES = Path(__file__).resolve().parents[1] / "services" / "demo_data" / "company_docs_src"
MARKDOWN = (".md",)
FORMATS = (*MARKDOWN, ".pdf", ".docx", ".html", ".htm")


@dataclass(frozen=True)
class SourceDocument:
    document_id: int
    stem: str
    title: str
    doc_type: str
    access: DocumentAccess
    chunks: tuple[Chunk, ...]


def _front_matter(text: str) -> tuple[dict[str, str], str, int]:
    if not text.startswith("---\n"):
        return {}, text, 0
    _, front, body = text.split("---\n", 2)
    meta = dict(line.split(": ", 1) for line in front.strip().splitlines() if ": " in line)
    return meta, body, len(text) - len(body)


def _sections(body: str) -> list[tuple[str | None, int, int]]:
    """(heading path, start, end) of each run of text between headings."""
    heading1: str | None = None
    section: str | None = None
    runs: list[tuple[str | None, int, int]] = []
    start = 0
    for match in re.finditer(r"^(#{1,2}) (.+)$", body, re.M):
        runs.append((section, start, match.start()))
        level, name = len(match.group(1)), match.group(2).strip()
        if level == 1:
            heading1, section = name, name
        else:
            section = f"{heading1} > {name}" if heading1 else name
        start = match.end()
    runs.append((section, start, len(body)))
    return runs


def _pieces(body: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Paragraph-aligned spans of at most `max_chars` (a longer paragraph stands alone)."""
    spans = []
    for m in re.finditer(r"(?:[^\n]*\S[^\n]*(?:\n|$))+", body[start:end]):
        text = m.group(0).rstrip()
        spans.append(
            (start + m.start() + len(text) - len(text.lstrip()), start + m.start() + len(text))
        )
    pieces: list[tuple[int, int]] = []
    for span in spans:
        if pieces and span[1] - pieces[-1][0] <= max_chars:
            pieces[-1] = (pieces[-1][0], span[1])
        else:
            pieces.append(span)
    return pieces


def chunk_document(
    path: Path, document_id: int, version: int = 1, max_chars: int = 1200
) -> SourceDocument:
    meta, body, offset = _front_matter(path.read_text(encoding="utf-8"))
    title = meta.get("title", path.stem)
    visibility = Visibility(meta.get("visibility", "internal"))
    access = DocumentAccess(visibility=visibility)
    chunks: list[Chunk] = []
    for section, start, end in _sections(body):
        for piece_start, piece_end in _pieces(body, start, end, max_chars):
            chunks.append(
                Chunk(
                    id=f"{document_id}:{version}:{len(chunks)}",
                    document_id=document_id,
                    version=version,
                    ordinal=len(chunks),
                    title=title,
                    section=section,
                    start=offset + piece_start,
                    end=offset + piece_end,
                    text=body[piece_start:piece_end],
                    access=access,
                )
            )
    return SourceDocument(
        document_id, path.stem, title, meta.get("doc_type", "document"), access, tuple(chunks)
    )


def ingest_document(
    path: Path, document_id: int, version: int = 1, max_chars: int = 1200, overlap_chars: int = 150
) -> SourceDocument:
    """The same document cut by the platform's ingestion instead: docling's conversion
    (`retrieval.convert`) and its chunker (`retrieval.chunking`), so an eval can measure the
    chunking users get. Slower: docling loads once, then converts each file."""
    from retrieval.chunking import make_chunks, split
    from retrieval.ingest import default_title

    if path.suffix.lower() in MARKDOWN:
        meta, body, _ = _front_matter(path.read_text(encoding="utf-8"))
        text = _converter().convert(body.encode(), f"{path.stem}.md")
        title = meta.get("title", path.stem)
        visibility = meta.get("visibility", "internal")
    else:
        meta = {}
        text = _converter().convert(path.read_bytes(), path.name)
        title = text.title or default_title(path.name)
        visibility = "public"
    access = DocumentAccess(visibility=Visibility(visibility))
    chunks = make_chunks(
        text.text,
        split(text, max_chars, overlap_chars),
        document_id=document_id,
        version=version,
        title=title,
        access=access,
    )
    return SourceDocument(
        document_id, path.stem, title, meta.get("doc_type", "document"), access, tuple(chunks)
    )


@lru_cache(maxsize=1)
def _converter():
    from retrieval.convert import Converter

    return Converter()


def read_documents(
    folder: Path = DEMO_SOURCES, max_chars: int = 1200, chunker: str = "headings"
) -> list[SourceDocument]:
    """Every Markdown, PDF, DOCX and HTML file in `folder`, in name order, numbered from 1;
    `chunker` is "headings" (one chunk per section, here; Markdown only) or "ingest" (the
    platform's ingestion, which other formats always take)."""
    paths = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in FORMATS)

    def cut(path: Path):
        by_headings = chunker == "headings" and path.suffix.lower() in MARKDOWN
        return chunk_document if by_headings else ingest_document

    return [cut(p)(p, number, max_chars=max_chars) for number, p in enumerate(paths, 1)]
