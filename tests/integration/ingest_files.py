"""Real files for the ingestion tests, made by the libraries that write those formats, and an
index that records what ingestion asked of it."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from docx import Document as DocxDocument
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from retrieval.chunks import Chunk

# A fixed creation date: the same content must give the same bytes (FPDF stamps the time)
CREATED = datetime(2026, 1, 1, tzinfo=UTC)

FACT = "Card withdrawals cost 2.5 percent"
TABLE = [("Tier", "Fee"), ("Standard", "$4.00"), ("Gold", "$1.50")]


class RecordingIndex:
    """A `ChunkIndex` that keeps what it was given, and can be told to fail."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.documents: dict[int, list[Chunk]] = {}
        self.doc_types: dict[int, str | None] = {}
        self.fail = False

    def replace_document(
        self, document_id: int, chunks: list[Chunk], *, doc_type: str | None = None
    ) -> None:
        self.calls.append(("replace", document_id, len(chunks)))
        if self.fail:
            raise RuntimeError("index unavailable")
        self.documents[document_id] = list(chunks)
        self.doc_types[document_id] = doc_type

    def delete_document(self, document_id: int) -> None:
        self.calls.append(("delete", document_id))
        self.documents.pop(document_id, None)


def pdf_bytes(
    fact: str = FACT, *, second_page: str = "Margin interest is charged monthly."
) -> bytes:
    pdf = FPDF()
    pdf.set_creation_date(CREATED)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, "Fee Guide", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 10, "Withdrawals", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, f"{fact}. Bank transfers are free.", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", size=10)
    with pdf.table(text_align="LEFT") as table:
        for cells in TABLE:
            row = table.row()
            for cell in cells:
                row.cell(cell)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 10, "Margin", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, second_page, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def docx_bytes(fact: str = FACT) -> bytes:
    document = DocxDocument()
    document.add_heading("Fee Guide", level=1)
    document.add_heading("Withdrawals", level=2)
    document.add_paragraph(f"{fact}. Bank transfers are free.")
    table = document.add_table(rows=len(TABLE), cols=2)
    for r, cells in enumerate(TABLE):
        for c, text in enumerate(cells):
            table.cell(r, c).text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def html_bytes(fact: str = FACT) -> bytes:
    rows = "".join(f"<tr><td>{a}</td><td>{b}</td></tr>" for a, b in TABLE[1:])
    return (
        "<!doctype html><html><head><title>Fee Guide</title></head><body>"
        "<h1>Fee Guide</h1><h2>Withdrawals</h2>"
        f"<p>{fact}. Bank transfers are free.</p>"
        f"<table><thead><tr><th>Tier</th><th>Fee</th></tr></thead><tbody>{rows}</tbody></table>"
        "</body></html>"
    ).encode()


def markdown_bytes(fact: str = FACT) -> bytes:
    table = "\n".join(["| Tier | Fee |", "|---|---|", *(f"| {a} | {b} |" for a, b in TABLE[1:])])
    return (
        f"# Fee Guide\n\n## Withdrawals\n\n{fact}. Bank transfers are free.\n\n{table}\n".encode()
    )


def text_bytes(fact: str = FACT) -> bytes:
    return (
        f"Fee Guide\n\n{fact}. Bank transfers are free.\nfee_code_7 stays *as written*.\n".encode()
    )


def text_image(lines: list[str], size: tuple[int, int] = (1100, 320)) -> Image.Image:
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=44)
    for i, line in enumerate(lines):
        draw.text((40, 40 + i * 110), line, fill="black", font=font)
    return image


def png_bytes(lines: list[str]) -> bytes:
    out = io.BytesIO()
    text_image(lines).save(out, format="PNG")
    return out.getvalue()


def scanned_pdf_bytes(lines: list[str], tmp_path: Path) -> bytes:
    """A PDF whose only content is a picture of text, as a scanner makes."""
    page = Image.new("L", (1654, 2339), 255)  # A4 at 200 dpi
    draw = ImageDraw.Draw(page)
    draw.text((150, 150), lines[0], fill=0, font=ImageFont.load_default(size=64))
    for i, line in enumerate(lines[1:]):
        draw.text((150, 320 + i * 80), line, fill=0, font=ImageFont.load_default(size=40))
    picture = tmp_path / "scan.png"
    page.save(picture)
    pdf = FPDF()
    pdf.set_creation_date(CREATED)
    pdf.add_page()
    pdf.image(str(picture), x=0, y=0, w=210, h=297)
    return bytes(pdf.output())
