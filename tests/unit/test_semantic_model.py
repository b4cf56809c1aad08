"""The semantic model file: the packaged one declares the business's words, and a file that
cannot be read names the line at fault."""

from __future__ import annotations

import pytest

from services.semantic.loader import SemanticModelError, load_semantic_model, parse_semantic_model


def test_the_packaged_model_declares_the_words_customers_and_staff_use():
    model = load_semantic_model()
    assert {
        "customers",
        "staff",
        "open_orders",
        "filled_orders",
        "fees",
        "deposits",
        "withdrawals",
        "holdings",
    } <= set(model.row_sets())
    assert {
        "monthly_recurring_revenue",
        "fees_charged",
        "traded_value",
        "net_deposits",
        "market_value",
        "unrealised_pnl",
    } <= set(model.measures())
    synonyms = {s for c in model.cubes for seg in c.segments for s in seg.meta.synonyms}
    assert {"clients", "Kunden", "clientes", "ordres ouvertes"} <= synonyms
    assert {c.name for c in model.conventions} >= {"signed_amounts", "stored_time", "today"}


def test_a_part_of_the_file_is_found_again_by_its_line():
    model = load_semantic_model()
    text = model.source.read_text().splitlines()
    line = model.line("cubes.1.segments.0")
    assert "open_orders" in text[line - 1]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("cubes:\n  - name: orders\n    sql_table: orders\n   bad: [\n", 4, "expected"),
        ("cubes:\n  - name: orders\n    sql_table: orders\n    colour: red\n", 4, "colour"),
        (
            "cubes:\n  - name: orders\n\n    sql_table: orders\n    sql: SELECT 1\n",
            2,
            "exactly one of",
        ),
        (
            "cubes:\n  - name: a\n    sql_table: a\n    segments:\n      - {name: x, sql: '1'}\n"
            "  - name: b\n    sql_table: b\n    measures:\n      - {name: x, type: count}\n",
            9,  # the second use of the name
            "has the name of a segment already",
        ),
    ],
    ids=["yaml error", "unknown key", "two sources", "one name twice"],
)
def test_a_broken_file_names_its_line(text, line, words):
    with pytest.raises(SemanticModelError) as raised:
        parse_semantic_model(text)
    assert raised.value.line == line
    assert words in str(raised.value)
