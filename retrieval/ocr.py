"""Text from pictures: images and scanned PDF pages, through RapidOCR or Tesseract.

Both engines run offline: RapidOCR ships its ONNX models inside its wheel; Tesseract is Debian's
`tesseract-ocr` program (the Makefile installs it). Each reports lines with boxes, which
`retrieval.layout` turns into headings, paragraphs and tables like a PDF's text layer.
`OCR_ENGINE` picks one; rapidocr is the default.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import threading
from collections import defaultdict
from typing import TYPE_CHECKING, Protocol

from retrieval.layout import Line

if TYPE_CHECKING:
    from PIL.Image import Image

MIN_SCORE = 0.5  # RapidOCR lines below this confidence are mostly noise


class OcrUnavailable(RuntimeError):
    """The configured engine cannot run here; the message says what to install."""


class OcrEngine(Protocol):
    name: str

    def read(self, image: Image, page: int) -> list[Line]:
        """Lines of text in the image, in pixel coordinates from the top-left corner."""


class RapidOcrEngine:
    name = "rapidocr"

    def __init__(self) -> None:
        self._engine = None
        self._lock = threading.Lock()  # one ONNX session set, used by one thread at a time

    def read(self, image: Image, page: int) -> list[Line]:
        import numpy as np

        with self._lock:
            if self._engine is None:
                from rapidocr import RapidOCR

                self._engine = RapidOCR(params={"Global.log_level": "warning"})
            result = self._engine(np.asarray(image.convert("RGB")))
        if result.boxes is None or result.txts is None:
            return []
        lines = []
        for box, text, score in zip(result.boxes, result.txts, result.scores, strict=True):
            if score < MIN_SCORE or not text.strip():
                continue
            xs, ys = [float(p[0]) for p in box], [float(p[1]) for p in box]
            lines.append(Line(page, text.strip(), min(xs), min(ys), max(xs), max(ys)))
        return lines


class TesseractEngine:
    name = "tesseract"

    def __init__(self, program: str = "tesseract", language: str = "eng"):
        self.program = program
        self.language = language

    def read(self, image: Image, page: int) -> list[Line]:
        if shutil.which(self.program) is None:
            raise OcrUnavailable(
                "OCR_ENGINE=tesseract, but the tesseract program is not installed "
                "(apt-get install tesseract-ocr)"
            )
        png = io.BytesIO()
        image.convert("RGB").save(png, format="PNG")
        done = subprocess.run(
            [self.program, "stdin", "stdout", "-l", self.language, "tsv"],
            input=png.getvalue(),
            capture_output=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise OcrUnavailable(f"tesseract failed: {done.stderr.decode(errors='replace')[:300]}")
        return _tsv_lines(done.stdout.decode("utf-8", errors="replace"), page)


def _tsv_lines(tsv: str, page: int) -> list[Line]:
    """Tesseract's word rows grouped into its lines.

    >>> header = "level page_num block_num par_num line_num word_num left top width height conf"
    >>> header += " text"
    >>> rows = ["5 1 1 1 1 1 10 20 30 12 96 Hello", "5 1 1 1 1 2 45 21 40 12 95 world"]
    >>> tsv = "\\n".join(line.replace(" ", "\\t") for line in [header, *rows])
    >>> _tsv_lines(tsv, 1)
    [Line(page=1, text='Hello world', x0=10.0, top=20.0, x1=85.0, bottom=33.0)]
    """
    words: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        if row.get("level") == "5" and (row.get("text") or "").strip():
            words[(row["block_num"], row["par_num"], row["line_num"])].append(row)
    lines = []
    for group in words.values():
        left = [float(w["left"]) for w in group]
        top = [float(w["top"]) for w in group]
        right = [float(w["left"]) + float(w["width"]) for w in group]
        bottom = [float(w["top"]) + float(w["height"]) for w in group]
        text = " ".join(w["text"].strip() for w in group)
        lines.append(Line(page, text, min(left), min(top), max(right), max(bottom)))
    return lines


def open_ocr(name: str) -> OcrEngine:
    """The engine `OCR_ENGINE` names."""
    if name == "rapidocr":
        return RapidOcrEngine()
    if name == "tesseract":
        return TesseractEngine()
    raise ValueError(f"unknown OCR engine {name!r} (rapidocr or tesseract)")
