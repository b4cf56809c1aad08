"""The firm's demo documents, written once in Markdown and published in several formats.

Each source in `company_docs_src/` carries front matter naming its title, type, visibility and
the format it is published in, so the demo folder holds real PDF, DOCX, HTML and Markdown files
for ingestion to work on.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from docx import Document as DocxDocument
from fpdf import FPDF

SOURCES = Path(__file__).with_name("company_docs_src")
MIME = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html",
    "md": "text/markdown",
}


@dataclass(frozen=True)
class Block:
    kind: str  # heading1, heading2, paragraph, bullets, table
    lines: tuple[str, ...]


@dataclass(frozen=True)
class CompanyDoc:
    slug: str
    title: str
    doc_type: str
    visibility: str
    format: str
    blocks: tuple[Block, ...]


def load_sources() -> list[CompanyDoc]:
    return [_parse(path) for path in sorted(SOURCES.glob("*.md"))]


def _parse(path: Path) -> CompanyDoc:
    _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
    meta = dict(line.split(": ", 1) for line in front.strip().splitlines())
    blocks: list[Block] = []
    for chunk in re.split(r"\n\s*\n", body.strip()):
        lines = tuple(chunk.strip().splitlines())
        if lines[0].startswith("## "):
            blocks.append(Block("heading2", (lines[0][3:],)))
        elif lines[0].startswith("# "):
            blocks.append(Block("heading1", (lines[0][2:],)))
        elif lines[0].startswith("|"):
            rows = [ln for ln in lines if not re.fullmatch(r"\|[-| ]+\|", ln)]
            blocks.append(Block("table", tuple(rows)))
        elif lines[0].startswith("- "):
            blocks.append(Block("bullets", tuple(ln[2:] for ln in lines)))
        else:
            blocks.append(Block("paragraph", (" ".join(lines),)))
    return CompanyDoc(
        path.stem,
        meta["title"],
        meta["doc_type"],
        meta["visibility"],
        meta["format"],
        tuple(blocks),
    )


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip("|").split("|")]


def _plain(text: str) -> str:
    return text.replace("**", "")


def render_markdown(doc: CompanyDoc) -> str:
    out = []
    for block in doc.blocks:
        if block.kind == "heading1":
            out.append(f"# {block.lines[0]}")
        elif block.kind == "heading2":
            out.append(f"## {block.lines[0]}")
        elif block.kind == "bullets":
            out.append("\n".join(f"- {ln}" for ln in block.lines))
        elif block.kind == "table":
            header, *rows = block.lines
            sep = "|" + "---|" * len(_cells(header))
            out.append("\n".join([header, sep, *rows]))
        else:
            out.append(block.lines[0])
    return "\n\n".join(out) + "\n"


def render_html(doc: CompanyDoc) -> str:
    def inline(text: str) -> str:
        return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(text))

    parts = [
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(doc.title)}</title></head><body>"
    ]
    for block in doc.blocks:
        if block.kind in ("heading1", "heading2"):
            tag = "h1" if block.kind == "heading1" else "h2"
            parts.append(f"<{tag}>{inline(block.lines[0])}</{tag}>")
        elif block.kind == "bullets":
            parts.append("<ul>" + "".join(f"<li>{inline(ln)}</li>" for ln in block.lines) + "</ul>")
        elif block.kind == "table":
            header, *rows = block.lines
            head = "".join(f"<th>{inline(c)}</th>" for c in _cells(header))
            body = "".join(
                "<tr>" + "".join(f"<td>{inline(c)}</td>" for c in _cells(r)) + "</tr>" for r in rows
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        else:
            parts.append(f"<p>{inline(block.lines[0])}</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def render_docx(doc: CompanyDoc, path: Path) -> None:
    document = DocxDocument()
    document.core_properties.title = doc.title
    for block in doc.blocks:
        if block.kind == "heading1":
            document.add_heading(block.lines[0], level=1)
        elif block.kind == "heading2":
            document.add_heading(block.lines[0], level=2)
        elif block.kind == "bullets":
            for line in block.lines:
                document.add_paragraph(_plain(line), style="List Bullet")
        elif block.kind == "table":
            rows = [_cells(r) for r in block.lines]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for r, cells in enumerate(rows):
                for c, text in enumerate(cells):
                    table.cell(r, c).text = text
        else:
            document.add_paragraph(_plain(block.lines[0]))
    document.save(path)


def render_pdf(doc: CompanyDoc, path: Path, when: datetime) -> None:
    pdf = FPDF()
    pdf.set_title(doc.title)
    pdf.set_creation_date(when)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for block in doc.blocks:
        if block.kind in ("heading1", "heading2"):
            pdf.set_font("Helvetica", "B", 18 if block.kind == "heading1" else 14)
            pdf.ln(3)
            pdf.multi_cell(width, 8, block.lines[0], new_x="LMARGIN", new_y="NEXT")
        elif block.kind == "table":
            pdf.set_font("Helvetica", size=10)
            with pdf.table(text_align="LEFT") as table:
                for line in block.lines:
                    row = table.row()
                    for cell in _cells(line):
                        row.cell(cell)
        else:
            pdf.set_font("Helvetica", size=11)
            lines = (
                [f"- {_plain(ln)}" for ln in block.lines]
                if block.kind == "bullets"
                else [_plain(block.lines[0])]
            )
            for line in lines:
                pdf.multi_cell(width, 6, line, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    pdf.output(str(path))


def demo_source(filename: str) -> str:
    """The source a demo document is ingested under, the same wherever VAR_DIR is."""
    return f"demo:{filename}"


def write_company_docs(folder: Path, when: datetime) -> list[dict]:
    """Write every document in its publishing format; return rows for the `documents` table.

    The rows are version 0 (listed, not yet read): ingesting the files with source
    `demo:<file name>` (`cli.setup.ingest_demo_documents`) makes them version 1 with chunks."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for number, doc in enumerate(load_sources(), start=1):
        path = folder / f"{doc.slug}.{doc.format}"
        if doc.format == "pdf":
            render_pdf(doc, path, when)
        elif doc.format == "docx":
            render_docx(doc, path)
        elif doc.format == "html":
            path.write_text(render_html(doc), encoding="utf-8")
        else:
            path.write_text(render_markdown(doc), encoding="utf-8")
        rows.append(
            {
                "id": number,
                "title": doc.title,
                "filename": path.name,
                "doc_type": doc.doc_type,
                "visibility": doc.visibility,
                "mime_type": MIME[doc.format],
                "content_hash": hashlib.sha256(path.read_bytes()).hexdigest(),
                "created_at": when,
                "source": demo_source(path.name),
                "current_version": 0,
                "updated_at": when,
                "access_roles": "",
                "access_user_ids": "",
            }
        )
    return rows
