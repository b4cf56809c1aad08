"""Cut a document's text into passages along its structure.

Each section (a heading and what follows it, up to the next heading of the same or a higher
level) is cut on its own, so a passage never mixes two sections and always knows its heading
path. Blocks are packed whole while they fit `max_chars`; a table that fits is never split; a
block too long for one passage (a long paragraph, list or table) is cut at the best boundary
available (paragraph, line, sentence, word), and consecutive passages of one long section
overlap by about `overlap_chars` so a sentence cut at the edge is whole in one of them.

Every passage is an exact slice of the version's text: `text[start:end]`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval.chunks import Chunk, DocumentAccess
from retrieval.structure import BlockKind, DocumentText

SEPARATORS = ("\n\n", "\n", ". ", "; ", ", ", " ")
_LINE_OR_SENTENCE_START = re.compile(r"(?<=\n)\S|(?<=[.!?;] )\S")
_WORD_START = re.compile(r"(?<=\s)\S")


@dataclass(frozen=True)
class Piece:
    start: int
    end: int
    section: str | None
    page: int | None


@dataclass
class _Section:
    path: str | None
    blocks: list[tuple[int, int, int | None, BlockKind]]  # start, end, page, kind

    @property
    def only_headings(self) -> bool:
        return all(kind is BlockKind.HEADING for *_, kind in self.blocks)


def split(doc: DocumentText, max_chars: int, overlap_chars: int = 0) -> list[Piece]:
    """Passages of `doc`, in order.

    >>> from retrieval.structure import Block, heading
    >>> doc = DocumentText.from_blocks([
    ...     heading("Fees", 1), Block(BlockKind.PARAGRAPH, "Cards cost 1%."),
    ...     heading("Cards", 2), Block(BlockKind.PARAGRAPH, "Visa and Mastercard."),
    ...     heading("Banks", 2), Block(BlockKind.PARAGRAPH, "Free.")])
    >>> [(doc.text[p.start:p.end], p.section) for p in split(doc, 200)]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('# Fees\\n\\nCards cost 1%.', 'Fees'), ('## Cards\\n\\nVisa and Mastercard.', 'Fees > Cards'),
     ('## Banks\\n\\nFree.', 'Fees > Banks')]
    """
    if max_chars <= 0 or overlap_chars < 0 or overlap_chars >= max_chars:
        raise ValueError("need max_chars > overlap_chars >= 0")
    pieces: list[Piece] = []
    for section in _sections(doc):
        pieces += _pack(doc.text, section, max_chars, overlap_chars)
    return pieces


def _sections(doc: DocumentText) -> list[_Section]:
    """Blocks grouped under their heading; a section holding only headings (a title followed
    straight by a subheading) is merged into the section after it."""
    sections: list[_Section] = []
    path: list[tuple[int, str]] = []
    for index, block in enumerate(doc.blocks):
        start, end = doc.span(index)
        if block.kind is BlockKind.HEADING:
            while path and path[-1][0] >= block.level:
                path.pop()
            path.append((block.level, block.title))
            sections.append(_Section(" > ".join(t for _, t in path), []))
        elif not sections:
            sections.append(_Section(None, []))
        sections[-1].blocks.append((start, end, block.page, block.kind))
    merged: list[_Section] = []
    carry: list[tuple[int, int, int | None, BlockKind]] = []
    for section in sections:
        if section.only_headings and section is not sections[-1]:
            carry += section.blocks
            continue
        merged.append(_Section(section.path, carry + section.blocks))
        carry = []
    return merged


def _pack(text: str, section: _Section, max_chars: int, overlap: int) -> list[Piece]:
    pieces: list[Piece] = []
    current: tuple[int, int, int | None] | None = None  # start, end, page

    def flush() -> None:
        nonlocal current
        if current is not None:
            pieces.append(_trimmed(text, Piece(current[0], current[1], section.path, current[2])))
            current = None

    for start, end, page, _kind in section.blocks:
        if end - start > max_chars:  # cut it, the blocks gathered so far leading the first cut
            first, page = (current[0], current[2]) if current else (start, page)
            current = None
            for a, b in _windows(text, first, end, max_chars, overlap):
                pieces.append(_trimmed(text, Piece(a, b, section.path, page)))
            continue
        if current is None:
            current = (
                _overlap_start(text, pieces, section, start, end, max_chars, overlap),
                end,
                page,
            )
        elif end - current[0] <= max_chars:
            current = (current[0], end, current[2])
        else:
            flush()
            current = (
                _overlap_start(text, pieces, section, start, end, max_chars, overlap),
                end,
                page,
            )
    flush()
    return pieces


def _overlap_start(
    text: str,
    pieces: list[Piece],
    section: _Section,
    start: int,
    end: int,
    max_chars: int,
    overlap: int,
) -> int:
    """Where a passage starting at `start` should begin: a little earlier, inside the previous
    passage of the same section, when there is one and the passage still fits."""
    if not overlap or not pieces or pieces[-1].section != section.path:
        return start
    previous = pieces[-1]
    if previous.end > start or previous.end < start - len("\n\n"):
        return start
    earliest = max(previous.start, start - overlap, end - max_chars)
    return _boundary(text, earliest, start)


def _boundary(text: str, at: int, limit: int) -> int:
    """Where an overlap should begin: the first line or sentence start in text[at:limit], else
    the first word start, else `limit` (no overlap).

    >>> text = "tail of one. Next sentence here"
    >>> text[_boundary(text, 3, 20):]
    'Next sentence here'
    """
    match = _LINE_OR_SENTENCE_START.search(text, at, limit)
    if match:
        return match.start()
    if text.startswith("|", text.rfind("\n", 0, at) + 1):
        return limit  # inside a table row: half a row is worse than no overlap
    match = _WORD_START.search(text, at, limit)
    return match.start() if match else limit


def _windows(text: str, start: int, end: int, max_chars: int, overlap: int):
    """Cut text[start:end] into windows of at most `max_chars`, each ending at the best
    boundary in its second half and overlapping the previous one by about `overlap`."""
    position = start
    while end - position > max_chars:
        cut = _best_cut(text, position, position + max_chars)
        yield position, cut
        following = _boundary(text, max(cut - overlap, position + 1), cut)
        position = following if following < cut else cut
        while position < end and text[position].isspace():
            position += 1
    if position < end:
        yield position, end


def _best_cut(text: str, start: int, limit: int) -> int:
    """The end of the last separator in text[start:limit], preferring paragraph ends to line
    ends to sentence ends to words; a hard cut when there is none.

    >>> text = "One two three. Four five six seven."
    >>> text[:_best_cut(text, 0, 20)]
    'One two three. '
    """
    floor = start + (limit - start) // 2
    for separator in SEPARATORS:
        found = text.rfind(separator, floor, limit)
        if found != -1:
            return found + len(separator)
    return limit


def _trimmed(text: str, piece: Piece) -> Piece:
    start, end = piece.start, piece.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Piece(start, end, piece.section, piece.page)


def make_chunks(
    text: str,
    pieces: list[Piece],
    *,
    document_id: int,
    version: int,
    title: str,
    access: DocumentAccess,
) -> list[Chunk]:
    """The pieces of the version's `text` as the index's `Chunk`s."""
    return [
        Chunk(
            id=f"{document_id}:{version}:{ordinal}",
            document_id=document_id,
            version=version,
            ordinal=ordinal,
            title=title,
            section=piece.section,
            page=piece.page,
            start=piece.start,
            end=piece.end,
            text=text[piece.start : piece.end],
            access=access,
        )
        for ordinal, piece in enumerate(pieces)
    ]
