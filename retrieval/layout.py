"""Structure from positioned lines of text: what a PDF's text layer or OCR gives, nothing more.

docling's model-free PDF pipeline (the only one that runs offline) and the OCR engines report
lines with boxes but no headings, lists or tables. This module recovers them from the geometry:
a line clearly taller than the body text is a heading (one level per size), a line that starts
with a bullet starts a list item, lines placed side by side in columns form a table, and lines
close enough below each other form a paragraph. Page headers and footers are not recognised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import groupby

from retrieval.structure import Block, BlockKind, heading

BULLET = re.compile(r"^\s*(?:[-•·*–]|\d{1,2}[.)])\s+")
HEADING_RATIO = 1.18  # this much taller than the body text makes a PDF line a heading
OCR_HEADING_RATIO = 1.4  # OCR boxes vary with ascenders and descenders: ask for more
HEADING_MAX_CHARS = 120


@dataclass(frozen=True)
class Line:
    """One line of text on a page; coordinates from the top-left corner, top < bottom."""

    page: int
    text: str
    x0: float
    top: float
    x1: float
    bottom: float

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2


def blocks_from_lines(lines: list[Line], heading_ratio: float = HEADING_RATIO) -> list[Block]:
    """Headings, paragraphs, lists and tables, page by page in reading order. A line at least
    `heading_ratio` times as tall as the body text is a heading.

    >>> def at(y, text, x=30, h=10): return Line(1, text, x, y, x + 8 * len(text), y + h)
    >>> blocks = blocks_from_lines([
    ...     at(10, "Fees", h=16), at(40, "Cards cost 1%."), at(53, "Banks are free."),
    ...     at(80, "Plan"), at(80, "Price", x=200), at(100, "Pro"), at(100, "$29", x=200)])
    >>> [(b.kind.value, b.text) for b in blocks]  # doctest: +NORMALIZE_WHITESPACE
    [('heading', '# Fees'), ('paragraph', 'Cards cost 1%. Banks are free.'),
     ('table', '| Plan | Price |\\n|---|---|\\n| Pro | $29 |')]
    """
    lines = [ln for ln in lines if ln.text.strip() and ln.height > 0]
    if not lines:
        return []
    body = _body_height(lines)
    heading_min = body * heading_ratio
    levels = _heading_levels(lines, heading_min)
    blocks: list[Block] = []
    for page, on_page in groupby(sorted(lines, key=lambda ln: ln.page), key=lambda ln: ln.page):
        blocks += _page_blocks(page, list(on_page), body, heading_min, levels)
    return blocks


def _body_height(lines: list[Line]) -> float:
    """The height most of the text is set in (weighted by characters)."""
    weights: dict[float, int] = {}
    for line in lines:
        size = round(line.height * 2) / 2
        weights[size] = weights.get(size, 0) + len(line.text)
    return max(weights, key=lambda size: (weights[size], -size))


def _is_heading_size(line: Line, heading_min: float) -> bool:
    return line.height >= heading_min and len(line.text) <= HEADING_MAX_CHARS


def _heading_levels(lines: list[Line], heading_min: float) -> list[float]:
    """Distinct heading heights, tallest first (within 5% counts as the same)."""
    sizes = sorted({ln.height for ln in lines if _is_heading_size(ln, heading_min)}, reverse=True)
    levels: list[float] = []
    for size in sizes:
        if not levels or size < levels[-1] * 0.95:
            levels.append(size)
    return levels


def _level(line: Line, levels: list[float]) -> int:
    return 1 + min(range(len(levels)), key=lambda i: abs(levels[i] - line.height))


def _rows(lines: list[Line]) -> list[list[Line]]:
    """Lines whose middles are at the same height, left to right."""
    rows: list[list[Line]] = []
    for line in sorted(lines, key=lambda ln: (ln.middle, ln.x0)):
        if (
            rows
            and abs(rows[-1][0].middle - line.middle) <= min(rows[-1][0].height, line.height) / 3
        ):
            rows[-1].append(line)
        else:
            rows.append([line])
    return [sorted(row, key=lambda ln: ln.x0) for row in rows]


def _is_cells(row: list[Line], body: float) -> bool:
    """Several pieces of text on one row, apart by more than a word gap: a table row."""
    return len(row) >= 2 and all(b.x0 - a.x1 >= body for a, b in zip(row, row[1:], strict=False))


def _page_blocks(
    page: int, lines: list[Line], body: float, heading_min: float, levels: list[float]
) -> list[Block]:
    rows = _rows(lines)
    blocks: list[Block] = []
    i = 0
    while i < len(rows):
        row = rows[i]
        if _is_cells(row, body) and i + 1 < len(rows):
            end = _table_end(rows, i, body)
            if end - i >= 2:
                blocks.append(_table(page, rows[i:end]))
                i = end
                continue
        if len(row) == 1 and _is_heading_size(row[0], heading_min):
            title, i = _heading_text(rows, i)
            blocks.append(heading(title, _level(row[0], levels), page))
            continue
        end = _text_end(rows, i, body, heading_min)
        blocks.append(_text_block(page, rows[i:end]))
        i = end
    return blocks


def _heading_text(rows: list[list[Line]], i: int) -> tuple[str, int]:
    """A heading, joined with the next line when it wrapped (same size, right below)."""
    parts = [rows[i][0]]
    while (
        i + 1 < len(rows)
        and len(rows[i + 1]) == 1
        and abs(rows[i + 1][0].height - parts[-1].height) < 0.5
        and rows[i + 1][0].top - parts[-1].bottom < parts[-1].height * 0.6
    ):
        i += 1
        parts.append(rows[i][0])
    return " ".join(p.text.strip() for p in parts), i + 1


def _table_end(rows: list[list[Line]], start: int, body: float) -> int:
    """Rows from `start` that belong to the table: rows of cells, and wrapped cell lines that sit
    in a column other than the first."""
    columns = [ln.x0 for ln in rows[start]]
    end = start + 1
    while end < len(rows):
        row = rows[end]
        aligned = all(any(abs(ln.x0 - x) <= body for x in columns) for ln in row)
        if not aligned:
            break
        lone_at_margin = not _is_cells(row, body) and abs(row[0].x0 - columns[0]) <= body
        if lone_at_margin and not _beside_wrapped_cell(row[0], rows, end, columns[0], body):
            break  # text back at the left margin, alone: the table is over
        end += 1
    return end


def _beside_wrapped_cell(
    line: Line, rows: list[list[Line]], at: int, first_column: float, body: float
) -> bool:
    """A first-column cell whose neighbours wrapped: it overlaps, in height, a line of another
    column in the row just above or below it."""
    near = [ln for r in rows[max(at - 1, 0) : at + 2] for ln in r if ln is not line]
    return any(
        abs(ln.x0 - first_column) > body and ln.top < line.bottom and line.top < ln.bottom
        for ln in near
    )


def _table(page: int, rows: list[list[Line]]) -> Block:
    """Rows of cells as a Markdown table; a wrapped cell line joins the row nearest to it."""
    columns = [ln.x0 for ln in rows[0]]
    anchors = [r for r in rows if abs(r[0].x0 - columns[0]) <= 2]
    cells: list[list[list[str]]] = [[[] for _ in columns] for _ in anchors]
    for row in rows:
        for line in row:
            r = min(range(len(anchors)), key=lambda k: abs(anchors[k][0].middle - line.middle))
            c = min(range(len(columns)), key=lambda k: abs(columns[k] - line.x0))
            cells[r][c].append(line.text.strip())
    table = [[" ".join(parts).replace("|", "\\|") for parts in row] for row in cells]
    header, *body = table
    lines = [_md_row(header), "|" + "---|" * len(columns), *(_md_row(r) for r in body)]
    return Block(BlockKind.TABLE, "\n".join(lines), page=page)


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _text_end(rows: list[list[Line]], start: int, body: float, heading_min: float) -> int:
    """A paragraph or list runs while the next row follows closely in the same size."""
    end = start + 1
    while end < len(rows):
        previous, row = rows[end - 1], rows[end]
        if _is_cells(row, body) or (len(row) == 1 and _is_heading_size(row[0], heading_min)):
            break
        gap = row[0].top - max(ln.bottom for ln in previous)
        if gap > previous[0].height * 0.9 or abs(row[0].height - previous[0].height) > 1.0:
            break
        if BULLET.match(row[0].text) and not BULLET.match(rows[start][0].text):
            break  # a list starts after a paragraph
        end += 1
    return end


def _text_block(page: int, rows: list[list[Line]]) -> Block:
    texts = [" ".join(ln.text.strip() for ln in row) for row in rows]
    if not BULLET.match(texts[0]):
        return Block(BlockKind.PARAGRAPH, " ".join(texts), page=page)
    items: list[str] = []
    for text in texts:
        if BULLET.match(text) or not items:
            items.append(BULLET.sub("", text, count=1))
        else:
            items[-1] += " " + text
    return Block(BlockKind.LIST, "\n".join(f"- {item}" for item in items), page=page)
