"""Invariants of choosing a range table's row in code (`agents.rag.tables`): for any ascending
bands, an amount inside the table's span picks the one row holding it, and a table whose first
column is not ranges keeps every row."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agents.rag.tables import as_rows, parse_table, row_for

bounds = st.lists(st.integers(1, 10**7), min_size=3, max_size=8, unique=True).map(sorted)


def range_table(edges: list[int]) -> str:
    """Bands [edge, next edge - 0.01], the last one open: '50,000.00 and above'."""
    rows = [
        f"| {lo:,}.00 to {hi - 1:,}.99 | fee {i} |"
        for i, (lo, hi) in enumerate(zip(edges, edges[1:], strict=False))
    ]
    rows.append(f"| {edges[-1]:,}.00 and above | fee {len(edges) - 1} |")
    return "| Amount | Fee |\n|---|---|\n" + "\n".join(rows) + "\n"


@given(bounds, st.data())
def test_an_amount_in_the_span_picks_the_row_holding_it(edges, data):
    table = parse_table(range_table(edges))
    row = data.draw(st.integers(0, len(edges) - 1))
    top = edges[row + 1] - 1 if row + 1 < len(edges) else edges[row] * 10
    amount = data.draw(st.integers(edges[row], top))
    assert row_for(table, f"What is the fee for {amount:,} EUR?") == (row, f"{amount:,}")
    shown = as_rows(range_table(edges), f"fee for {amount}?")
    assert f"Fee: fee {row}" in shown and shown.count("Fee: fee") == 1


@given(bounds)
def test_an_amount_below_every_band_picks_no_row(edges):
    table = parse_table(range_table(edges))
    assert row_for(table, f"fee for {edges[0] - 1}?") is None


@given(st.lists(st.sampled_from(["Gold", "Silver", "VIP", "Standard"]), min_size=2, max_size=4))
def test_a_table_of_words_keeps_every_row(names):
    text = "| Tier | Limit |\n|---|---|\n" + "".join(f"| {n} | 5,000 |\n" for n in names)
    shown = as_rows(text, "What is the limit for 5,000?")
    assert shown.count("Limit: 5,000") == len(names)


@given(bounds, st.data())
def test_an_amount_in_thousands_picks_the_row_of_its_value(edges, data):
    """ "12k" is 12,000 wherever the bands put it, not 12."""
    edges = [edge * 1000 for edge in edges]
    row = data.draw(st.integers(0, len(edges) - 1))
    top = (edges[row + 1] - 1) // 1000 if row + 1 < len(edges) else edges[row] // 100
    thousands = data.draw(st.integers(-(-edges[row] // 1000), top))
    assert row_for(parse_table(range_table(edges)), f"fee for {thousands}k?") == (
        row,
        f"{thousands}k",
    )
