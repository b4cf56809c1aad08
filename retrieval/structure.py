"""A converted document as structure: headings, paragraphs, lists and tables, in reading order.

Conversion (`retrieval.convert`) produces `Block`s whatever the format was; `DocumentText` joins
them into one Markdown text and remembers where each block starts, so that chunking can cut on
the structure and every chunk can point at exact character offsets of the stored text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

BLOCK_SEPARATOR = "\n\n"


class BlockKind(StrEnum):
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    LIST = "list"
    TABLE = "table"


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    text: str  # as it appears in the document text (Markdown)
    title: str = ""  # headings: the plain heading, for section paths
    level: int = 0  # headings: 1 is the top level
    page: int | None = None  # PDF and scans: the page it is on, from 1


def heading(title: str, level: int, page: int | None = None) -> Block:
    """
    >>> heading("Fees", 2).text
    '## Fees'
    """
    level = max(1, min(level, 6))
    return Block(BlockKind.HEADING, f"{'#' * level} {title}", title=title, level=level, page=page)


@dataclass(frozen=True)
class DocumentText:
    """The version's text and its blocks; `offsets[i]` is where `blocks[i]` starts in `text`."""

    text: str
    blocks: tuple[Block, ...]
    offsets: tuple[int, ...]
    pages: int | None = None  # page count for paged formats
    method: str = ""  # how the text was obtained, e.g. docling, docling+ocr:rapidocr

    @classmethod
    def from_blocks(
        cls, blocks: list[Block], *, pages: int | None = None, method: str = ""
    ) -> DocumentText:
        """
        >>> doc = DocumentText.from_blocks([heading("A", 1), Block(BlockKind.PARAGRAPH, "b c")])
        >>> doc.text, doc.offsets, doc.span(1)
        ('# A\\n\\nb c', (0, 5), (5, 8))
        """
        kept = [b for b in blocks if b.text.strip()]
        offsets, position = [], 0
        for block in kept:
            offsets.append(position)
            position += len(block.text) + len(BLOCK_SEPARATOR)
        text = BLOCK_SEPARATOR.join(b.text for b in kept)
        return cls(text, tuple(kept), tuple(offsets), pages, method)

    def span(self, index: int) -> tuple[int, int]:
        start = self.offsets[index]
        return start, start + len(self.blocks[index].text)

    @property
    def title(self) -> str | None:
        """The first top-level heading, if the document opens with one."""
        for block in self.blocks[:3]:
            if block.kind is BlockKind.HEADING and block.level == 1:
                return block.title
        return None
