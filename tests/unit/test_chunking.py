"""Structure-aware chunking and the layout recovery it relies on, on hand-made documents."""

from __future__ import annotations

import doctest
import importlib

import pytest

from retrieval.chunking import make_chunks, split
from retrieval.chunks import DocumentAccess
from retrieval.layout import Line, blocks_from_lines
from retrieval.structure import Block, BlockKind, DocumentText, heading


def para(text: str, page: int | None = None) -> Block:
    return Block(BlockKind.PARAGRAPH, text, page=page)


def table(rows: int, width: int = 20) -> Block:
    lines = ["| Tier | Fee |", "|---|---|"]
    lines += [f"| tier{i:03d}{'x' * width} | ${i}.00 |" for i in range(rows)]
    return Block(BlockKind.TABLE, "\n".join(lines))


def slices(doc: DocumentText, pieces) -> list[str]:
    return [doc.text[p.start : p.end] for p in pieces]


SENTENCES = " ".join(f"Sentence number {i} explains one more fee rule." for i in range(40))


def test_every_piece_is_an_exact_trimmed_slice_within_the_limit():
    doc = DocumentText.from_blocks(
        [heading("Fees", 1), para(SENTENCES), table(30), heading("Cards", 2), para("Short.")]
    )
    pieces = split(doc, 300, 50)
    texts = slices(doc, pieces)
    assert all(0 < len(t) <= 300 for t in texts)
    assert all(t == t.strip() for t in texts)
    assert [p.start for p in pieces] == sorted(p.start for p in pieces)
    covered = set()
    for p in pieces:
        covered.update(range(p.start, p.end))
    words = [i for i, ch in enumerate(doc.text) if not ch.isspace()]
    assert all(i in covered for i in words)  # nothing of the text is lost


def test_sections_carry_their_heading_path_and_never_mix():
    doc = DocumentText.from_blocks(
        [
            heading("Guide", 1),
            heading("Fees", 2),
            para("Card fees apply."),
            heading("Crypto", 3),
            para("Network fees apply."),
            heading("Accounts", 2),
            para("One per person."),
        ]
    )
    pieces = split(doc, 1000)
    assert [p.section for p in pieces] == [
        "Guide > Fees",  # the title alone joins the section after it
        "Guide > Fees > Crypto",
        "Guide > Accounts",
    ]
    assert slices(doc, pieces)[0] == "# Guide\n\n## Fees\n\nCard fees apply."
    assert slices(doc, pieces)[2] == "## Accounts\n\nOne per person."


def test_a_table_that_fits_is_never_split():
    block = table(8)
    doc = DocumentText.from_blocks([heading("Fees", 1), para(SENTENCES[:250]), block])
    assert len(block.text) < 400 < len(doc.text)
    texts = slices(doc, split(doc, 400, 80))
    assert sum(block.text in t for t in texts) == 1  # whole, in exactly one chunk
    assert not any("| tier" in t and block.text not in t for t in texts)


def test_a_table_too_long_is_cut_between_rows():
    doc = DocumentText.from_blocks([heading("Fees", 1), table(40)])
    texts = slices(doc, split(doc, 300, 60))
    assert len(texts) > 3
    for t in texts:
        rows = [line for line in t.splitlines() if line.startswith("|")]
        assert all(r.endswith("|") and r.count("|") == 3 for r in rows), t


def test_long_sections_overlap_at_sentence_starts():
    doc = DocumentText.from_blocks([heading("Rules", 1), para(SENTENCES)])
    pieces = split(doc, 400, 100)
    assert len(pieces) >= 5
    for before, after in zip(pieces, pieces[1:], strict=False):
        overlap = before.end - after.start
        assert 0 < overlap <= 100
        assert doc.text[after.start :].startswith("Sentence number")  # a whole sentence
        assert doc.text[before.end - 1] == "."  # cut after a sentence, not inside a word


def test_no_overlap_when_asked_for_none():
    doc = DocumentText.from_blocks([para(SENTENCES)])
    pieces = split(doc, 400, 0)
    assert all(a.end <= b.start for a, b in zip(pieces, pieces[1:], strict=False))


def test_pages_come_from_the_blocks():
    doc = DocumentText.from_blocks(
        [heading("A", 1, page=1), para("one " * 50, page=1), heading("B", 1, page=2), para("two")]
    )
    assert [p.page for p in split(doc, 150)] == [1, 1, 2]


def test_chunks_name_their_document_version_and_access():
    doc = DocumentText.from_blocks([heading("Fees", 1), para("Cards cost 1%.")])
    access = DocumentAccess(visibility="public")
    [chunk] = make_chunks(
        doc.text, split(doc, 500), document_id=4, version=3, title="Fees", access=access
    )
    assert (chunk.id, chunk.document_id, chunk.version, chunk.ordinal) == ("4:3:0", 4, 3, 0)
    assert (chunk.text, chunk.start, chunk.end) == (doc.text, 0, len(doc.text))
    assert chunk.access == access and chunk.section == "Fees"


@pytest.mark.parametrize(("max_chars", "overlap"), [(0, 0), (100, 100), (100, -1)])
def test_impossible_sizes_are_refused(max_chars, overlap):
    with pytest.raises(ValueError):
        split(DocumentText.from_blocks([para("x")]), max_chars, overlap)


def test_layout_finds_heading_levels_lists_and_a_table_with_a_wrapped_cell():
    def line(page, top, text, x=30.0, height=10.0, width=None):
        return Line(page, text, x, top, x + (width or 6 * len(text)), top + height)

    lines = [
        line(1, 20, "Fee Guide", height=17),
        line(1, 50, "Plans", height=13),
        line(1, 70, "Plan", height=9),
        line(1, 70, "Includes", x=300, height=9),
        line(1, 90, "Pro", height=9),
        line(1, 85, "Level 2 depth and", x=300, height=9),
        line(1, 96, "options chains", x=300, height=9),
        line(1, 120, "Plans renew monthly and can be cancelled at any time, and"),
        line(1, 133, "refunds are not given for partial months."),
        line(2, 20, "- Cards cost 1.5%."),
        line(2, 33, "- Banks are free of"),
        line(2, 46, "charge."),
    ]
    blocks = blocks_from_lines(lines)
    assert [(b.kind, b.page) for b in blocks] == [
        (BlockKind.HEADING, 1),
        (BlockKind.HEADING, 1),
        (BlockKind.TABLE, 1),
        (BlockKind.PARAGRAPH, 1),
        (BlockKind.LIST, 2),
    ]
    assert [b.level for b in blocks[:2]] == [1, 2]
    assert blocks[2].text.splitlines()[2] == "| Pro | Level 2 depth and options chains |"
    assert blocks[3].text.endswith("and refunds are not given for partial months.")
    assert blocks[4].text == "- Cards cost 1.5%.\n- Banks are free of charge."


MODULES = [
    "retrieval.chunking",
    "retrieval.convert",
    "retrieval.ingest",
    "retrieval.layout",
    "retrieval.ocr",
    "retrieval.structure",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
