"""How fast documents are read and cut: seconds per document and per page, by format.

Run: `python -m evals.bench_ingest [--rounds 3] [--pages 20] [--json]`. It renders the demo
documents, a long PDF (the fee schedule repeated to `--pages` pages) and a scanned page, then
times conversion (warm: docling and the OCR models loaded once beforehand) and chunking, best
of `--rounds`. The index is left out: embedding speed is the retrieval benchmark's business.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

from retrieval.chunking import split
from retrieval.convert import Converter
from services.demo_data.company_docs import load_sources, render_pdf, write_company_docs


class Timing(BaseModel):
    file: str
    pages: int | None
    chars: int
    chunks: int
    convert_s: float
    chunk_s: float

    @property
    def per_page_s(self) -> float | None:
        return self.convert_s / self.pages if self.pages else None


class Report(BaseModel):
    rounds: int
    ocr: str
    timings: list[Timing]


def long_pdf(folder: Path, pages: int) -> Path:
    """The fee schedule's blocks repeated until the PDF has at least `pages` pages."""
    from dataclasses import replace

    from pypdfium2 import PdfDocument

    fees = next(d for d in load_sources() if d.slug == "fee_schedule")
    path = folder / f"fee_schedule_x{pages}.pdf"
    copies = 1
    while True:
        render_pdf(replace(fees, blocks=fees.blocks * copies), path, datetime(2026, 1, 1))
        document = PdfDocument(str(path))
        count = len(document)
        document.close()
        if count >= pages:
            return path
        copies = max(copies + 1, int(copies * pages / count) + 1)


def scanned_pdf(folder: Path) -> Path:
    from fpdf import FPDF
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (1654, 2339), 255)
    draw = ImageDraw.Draw(page)
    for i in range(30):
        draw.text(
            (150, 150 + i * 70),
            f"Line {i}: withdrawals above the daily limit need a second approval.",
            fill=0,
            font=ImageFont.load_default(size=36),
        )
    picture = folder / "scan.png"
    page.save(picture)
    pdf = FPDF()
    pdf.add_page()
    pdf.image(str(picture), x=0, y=0, w=210, h=297)
    path = folder / "scanned_page.pdf"
    pdf.output(str(path))
    return path


def measure(converter: Converter, path: Path, rounds: int, max_chars: int, overlap: int) -> Timing:
    data = path.read_bytes()
    best_convert = best_chunk = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        text = converter.convert(data, path.name)
        converted = time.perf_counter()
        pieces = split(text, max_chars, overlap)
        best_convert = min(best_convert, converted - started)
        best_chunk = min(best_chunk, time.perf_counter() - converted)
    return Timing(
        file=path.name,
        pages=text.pages,
        chars=len(text.text),
        chunks=len(pieces),
        convert_s=round(best_convert, 4),
        chunk_s=round(best_chunk, 5),
    )


def run(rounds: int = 3, pages: int = 20, ocr: str = "rapidocr") -> Report:
    converter = Converter(ocr)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_company_docs(folder, datetime(2026, 1, 1))
        files = sorted(p for p in folder.iterdir() if p.is_file())
        files += [long_pdf(folder, pages), scanned_pdf(folder)]
        for path in files:  # warm-up: docling's import and the OCR models are paid once
            converter.convert(path.read_bytes(), path.name)
        timings = [measure(converter, p, rounds, 1200, 150) for p in files]
    return Report(rounds=rounds, ocr=ocr, timings=timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--ocr", default="rapidocr", choices=["rapidocr", "tesseract"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = run(args.rounds, args.pages, args.ocr)
    if args.json:
        print(report.model_dump_json(indent=2))
        return
    print(f"best of {report.rounds} rounds, OCR {report.ocr}")
    print(
        f"{'file':30} {'pages':>5} {'chars':>7} {'chunks':>6} {'convert s':>10} "
        f"{'s/page':>8} {'chunk ms':>9}"
    )
    for t in report.timings:
        per_page = f"{t.per_page_s:.4f}" if t.per_page_s else "-"
        print(
            f"{t.file:30} {t.pages or '-':>5} {t.chars:>7} {t.chunks:>6} {t.convert_s:>10.4f} "
            f"{per_page:>8} {t.chunk_s * 1000:>9.2f}"
        )


if __name__ == "__main__":
    main()
