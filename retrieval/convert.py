"""From a file's bytes to structured text: docling for documents, OCR for pictures and scans.

- DOCX, HTML and Markdown go through docling-slim, whose document tree gives headings (with
  their levels), paragraphs, lists and tables directly.
- PDF goes through docling's model-free `NativePdfPipeline` (the default PDF pipeline downloads
  a layout model and fails offline). It reports positioned lines only, so `retrieval.layout`
  recovers headings and tables from the geometry. A page without a text layer (a scan) is
  rendered and read by OCR instead.
- Images (PNG, JPEG, TIFF, BMP, WebP) are read by OCR.
- Plain text is read as it is: docling would take a .txt file for Markdown and drop characters
  such as `_` and `*` that mean nothing special in a text file.

Every failure is a `DocumentError` with a code and a sentence that names the file.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from retrieval.layout import HEADING_RATIO, OCR_HEADING_RATIO, Line, blocks_from_lines
from retrieval.ocr import OcrEngine, OcrUnavailable, open_ocr
from retrieval.structure import Block, BlockKind, DocumentText, heading
from services.documents import DocumentError

log = logging.getLogger(__name__)

OCR_SCALE = 2.0  # render scanned pages at 144 dpi: small print stays readable for OCR
MIN_PAGE_TEXT = 10  # a page with fewer characters in its text layer is treated as a scan


@dataclass(frozen=True)
class FileType:
    kind: str  # pdf, docx, html, markdown, text, image
    mime: str


FILE_TYPES = {
    ".pdf": FileType("pdf", "application/pdf"),
    ".docx": FileType(
        "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ),
    ".html": FileType("html", "text/html"),
    ".htm": FileType("html", "text/html"),
    ".md": FileType("markdown", "text/markdown"),
    ".markdown": FileType("markdown", "text/markdown"),
    ".txt": FileType("text", "text/plain"),
    ".png": FileType("image", "image/png"),
    ".jpg": FileType("image", "image/jpeg"),
    ".jpeg": FileType("image", "image/jpeg"),
    ".tif": FileType("image", "image/tiff"),
    ".tiff": FileType("image", "image/tiff"),
    ".bmp": FileType("image", "image/bmp"),
    ".webp": FileType("image", "image/webp"),
}
SUPPORTED = ", ".join(sorted(FILE_TYPES))


def file_type(filename: str) -> FileType:
    """The type a file name announces, or `unsupported_type`.

    >>> file_type("Fees.PDF").kind
    'pdf'
    >>> file_type("book.xlsx")
    Traceback (most recent call last):
    ...
    services.documents.DocumentError: book.xlsx: .xlsx files are not supported (supported: ...)
    """
    suffix = PurePath(filename).suffix.lower()
    if suffix not in FILE_TYPES:
        what = f"{suffix} files are" if suffix else "files without an extension are"
        raise DocumentError(
            "unsupported_type", f"{filename}: {what} not supported (supported: {SUPPORTED})"
        )
    return FILE_TYPES[suffix]


def check_content(filename: str, data: bytes, kind: str) -> None:
    """Refuse empty files and files whose bytes are not what their name says, before any
    parser sees them."""
    if not data.strip():
        raise DocumentError("empty_file", f"{filename} is empty")
    if kind == "pdf" and not data.lstrip()[:5] == b"%PDF-":
        raise DocumentError("corrupt_file", f"{filename} is not a PDF file (no %PDF header)")
    if kind == "docx":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                archive.getinfo("word/document.xml")
        except (zipfile.BadZipFile, KeyError):
            raise DocumentError(
                "corrupt_file", f"{filename} is not a Word document (no word/document.xml)"
            ) from None
    if kind in ("html", "markdown", "text") and b"\x00" in data[:8192]:
        raise DocumentError("corrupt_file", f"{filename} holds binary data, not text")


class Converter:
    """One per process: docling's converter and the OCR models load once, on first use."""

    def __init__(self, ocr: OcrEngine | str = "rapidocr"):
        self.ocr = open_ocr(ocr) if isinstance(ocr, str) else ocr
        self._docling = None
        self._lock = threading.Lock()  # conversions share parsers; two cores gain nothing more

    def convert(self, data: bytes, filename: str) -> DocumentText:
        kind = file_type(filename).kind
        check_content(filename, data, kind)
        try:
            with self._lock:
                document = self._convert(kind, data, filename)
        except DocumentError:
            raise
        except OcrUnavailable as exc:
            raise DocumentError("corrupt_file", f"{filename}: {exc}") from None
        except Exception as exc:  # a parser's own error: the file is not what it claims
            log.warning("conversion of %s failed: %r", filename, exc)
            raise DocumentError(
                "corrupt_file", f"{filename} could not be read: {_reason(exc)}"
            ) from None
        if not document.text.strip():
            raise DocumentError("no_text", f"no text could be read from {filename}")
        return document

    def _convert(self, kind: str, data: bytes, filename: str) -> DocumentText:
        if kind == "text":
            return _plain_text(data)
        if kind == "image":
            return self._image(data, filename)
        result = self._run_docling(data, filename)
        if kind == "pdf":
            return self._pdf(result.document, data)
        return DocumentText.from_blocks(_tree_blocks(result.document), method="docling")

    # -- docling ---------------------------------------------------------------------------
    def _converter(self):
        if self._docling is None:
            from docling.datamodel.base_models import InputFormat
            from docling.datamodel.pipeline_options import NativePdfPipelineOptions
            from docling.document_converter import DocumentConverter, PdfFormatOption
            from docling.pipeline.native_pdf_pipeline import NativePdfPipeline

            pdf_options = NativePdfPipelineOptions(
                generate_page_images=False, generate_picture_images=False, document_timeout=300
            )
            self._docling = DocumentConverter(
                allowed_formats=[
                    InputFormat.PDF,
                    InputFormat.DOCX,
                    InputFormat.HTML,
                    InputFormat.MD,
                ],
                format_options={
                    InputFormat.PDF: PdfFormatOption(
                        pipeline_cls=NativePdfPipeline, pipeline_options=pdf_options
                    )
                },
            )
        return self._docling

    def _run_docling(self, data: bytes, filename: str):
        from docling.datamodel.base_models import ConversionStatus, DocumentStream

        result = self._converter().convert(
            DocumentStream(name=filename, stream=io.BytesIO(data)), raises_on_error=False
        )
        if result.status not in (ConversionStatus.SUCCESS, ConversionStatus.PARTIAL_SUCCESS):
            errors = "; ".join(e.error_message for e in result.errors) or result.status.value
            log.warning("docling could not convert %s: %s", filename, errors[:500])
            raise DocumentError(
                "corrupt_file",
                f"{filename} could not be read: the file is damaged or is not "
                f"a valid {PurePath(filename).suffix.lstrip('.').upper()} document",
            )
        return result

    # -- PDF -------------------------------------------------------------------------------
    def _pdf(self, document, data: bytes) -> DocumentText:
        lines = _pdf_lines(document)
        pages = sorted(document.pages) or [1]
        text_per_page = {p: 0 for p in pages}
        for line in lines:
            text_per_page[line.page] = text_per_page.get(line.page, 0) + len(line.text)
        scanned = [p for p, chars in text_per_page.items() if chars < MIN_PAGE_TEXT]
        method, ratio = "docling", HEADING_RATIO
        if scanned:
            lines = [ln for ln in lines if ln.page not in scanned] + self._ocr_pages(data, scanned)
            method, ratio = f"docling+ocr:{self.ocr.name}", OCR_HEADING_RATIO
        return DocumentText.from_blocks(
            blocks_from_lines(lines, ratio), pages=len(document.pages) or None, method=method
        )

    def _ocr_pages(self, data: bytes, page_numbers: list[int]) -> list[Line]:
        import pypdfium2 as pdfium

        lines: list[Line] = []
        pdf = pdfium.PdfDocument(data)
        try:
            for number in page_numbers:
                image = pdf[number - 1].render(scale=OCR_SCALE).to_pil()
                lines += [_scaled(ln, 1 / OCR_SCALE) for ln in self.ocr.read(image, number)]
        finally:
            pdf.close()
        return lines

    # -- images and text -------------------------------------------------------------------
    def _image(self, data: bytes, filename: str) -> DocumentText:
        from PIL import Image, UnidentifiedImageError

        try:
            image = Image.open(io.BytesIO(data))
            image.load()
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
            raise DocumentError(
                "corrupt_file", f"{filename} is not a readable image: {_reason(exc)}"
            ) from None
        lines = self.ocr.read(image, 1)
        blocks = [_without_page(b) for b in blocks_from_lines(lines, OCR_HEADING_RATIO)]
        return DocumentText.from_blocks(blocks, method=f"ocr:{self.ocr.name}")


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _scaled(line: Line, factor: float) -> Line:
    return Line(
        line.page,
        line.text,
        line.x0 * factor,
        line.top * factor,
        line.x1 * factor,
        line.bottom * factor,
    )


def _without_page(block: Block) -> Block:
    return Block(block.kind, block.text, block.title, block.level, None)


def _pdf_lines(document) -> list[Line]:
    """The native pipeline's text items as lines, from the top-left corner of their page."""
    from docling_core.types.doc import CoordOrigin, TextItem

    lines = []
    for item, _level in document.iterate_items():
        if not isinstance(item, TextItem) or not item.prov or not item.text.strip():
            continue
        prov = item.prov[0]
        page = document.pages.get(prov.page_no)
        box = prov.bbox
        if box.coord_origin == CoordOrigin.BOTTOMLEFT and page is not None:
            box = box.to_top_left_origin(page_height=page.size.height)
        lines.append(Line(prov.page_no, item.text.strip(), box.l, box.t, box.r, box.b))
    return lines


def _plain_text(data: bytes) -> DocumentText:
    """
    >>> _plain_text(b"Title line\\n\\nsnake_case *stays*\\r\\nas written").text
    'Title line\\n\\nsnake_case *stays*\\nas written'
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", text)]
    blocks = [
        Block(BlockKind.PARAGRAPH, "\n".join(ln.rstrip() for ln in p.splitlines()))
        for p in paragraphs
        if p.strip()
    ]
    return DocumentText.from_blocks(blocks, method="text")


def _tree_blocks(document) -> list[Block]:
    """docling's document tree (DOCX, HTML, Markdown) as blocks, in reading order."""
    from docling_core.transforms.serializer.markdown import MarkdownDocSerializer
    from docling_core.types.doc import (
        ContentLayer,
        GroupItem,
        InlineGroup,
        ListGroup,
        PictureItem,
        SectionHeaderItem,
        TableItem,
        TextItem,
        TitleItem,
    )

    serializer = MarkdownDocSerializer(doc=document)
    has_title = any(isinstance(item, TitleItem) for item, _ in document.iterate_items())
    blocks: list[Block] = []

    def markdown(item) -> str:
        return serializer.serialize(item=item).text.strip()

    def walk(node) -> None:
        for ref in node.children:
            item = ref.resolve(document)
            if getattr(item, "content_layer", ContentLayer.BODY) != ContentLayer.BODY:
                continue
            if isinstance(item, TitleItem):
                blocks.append(heading(item.text.strip(), 1))
            elif isinstance(item, SectionHeaderItem):
                blocks.append(heading(item.text.strip(), item.level + int(has_title)))
            elif isinstance(item, TableItem):
                blocks.append(Block(BlockKind.TABLE, _compact_table(markdown(item))))
                continue
            elif isinstance(item, ListGroup):
                blocks.append(Block(BlockKind.LIST, markdown(item)))
                continue
            elif isinstance(item, InlineGroup):
                blocks.append(Block(BlockKind.PARAGRAPH, markdown(item)))
                continue
            elif isinstance(item, PictureItem):
                continue
            elif isinstance(item, TextItem):
                blocks.append(Block(BlockKind.PARAGRAPH, markdown(item)))
            elif not isinstance(item, GroupItem):
                continue
            walk(item)

    walk(document.body)
    return blocks


def _compact_table(table: str) -> str:
    """docling pads cells to align columns; the padding only costs characters.

    >>> _compact_table("| a    | b |\\n|------|---|\\n| long | c |")
    '| a | b |\\n|---|---|\\n| long | c |'
    """
    lines = []
    for line in table.splitlines():
        line = re.sub(r"-{3,}", "---", line)
        lines.append(re.sub(r" {2,}\|", " |", line))
    return "\n".join(lines)
