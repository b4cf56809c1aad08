"""Tables in passages, shown to the model as rows with their headers, and the row an amount
falls in chosen in code.

A small model reading a Markdown table loses track of which cell sits under which header, and
given "a withdrawal of 25,000" it often quotes the first row. So every table of a passage is
rewritten as one line per row, each cell named by its header; and when the table's first
column holds numeric ranges or thresholds ("0 to 999.99", "1,000 to 9,999", "50,000 and
above") and the question states exactly one amount that one of them holds, only that row is
shown, marked as the row for that amount. The model then phrases the answer; it no longer
chooses the row.

Ranges are read from the digits of the cells, not their words, so a table in any language
qualifies when every row but the first and last has two numbers in ascending order; a first
row with one number is an upper bound ("up to 1,000") when it does not exceed the next row's
lower bound, a last row with one number a lower bound ("50,000 and above"). A table that does
not read unambiguously that way keeps all its rows.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from agents.rag.amounts import amounts, value

_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
_TABLE = re.compile(r"(?:^\|.*\|[ \t]*(?:\n|$))+", re.M)
_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?$")


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]

    def line(self, row: list[str]) -> str:
        """
        >>> Table(["Plan", "Price"], []).line(["Pro", "$29"])
        'Plan: Pro; Price: $29'
        """
        return "; ".join(f"{h}: {c}" if h else c for h, c in zip(self.header, row, strict=False))


def parse_table(text: str) -> Table | None:
    """A Markdown pipe table with a header and a separator line, else None.

    >>> parse_table("| Plan | Price |\\n|---|---|\\n| Pro | $29 |")
    Table(header=['Plan', 'Price'], rows=[['Pro', '$29']])
    >>> parse_table("| just | a row |") is None
    True
    """
    lines = [line.strip() for line in text.strip().splitlines()]
    if len(lines) < 3 or not _SEPARATOR.match(lines[1]):
        return None
    header, *rows = (_cells(line) for line in lines[:1] + lines[2:])
    return Table(header, [row for row in rows if any(row)])


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def bands(table: Table) -> list[tuple[float, float]] | None:
    """The numeric range of each row's first cell, lower bound inclusive, or None when the
    first column does not read as ascending ranges.

    >>> t = parse_table("| Amount | Fee |\\n|---|---|\\n| 0 to 999.99 | free |\\n"
    ...                 "| 1,000 to 9,999.99 | 1.00 |\\n| 10,000 and above | 3.00 |")
    >>> bands(t)
    [(0.0, 999.99), (1000.0, 9999.99), (10000.0, inf)]
    >>> bands(parse_table("| A | F |\\n|---|---|\\n| Up to 500 | a |\\n| 500.01 - 2,000 | b |"))
    [(-inf, 500.0), (500.01, 2000.0)]
    >>> bands(parse_table("| Tier | Limit |\\n|---|---|\\n| Gold | 150,000 |")) is None
    True
    """
    cells = [[value(n) for n in _NUMBER.findall(row[0])] for row in table.rows if row]
    if len(cells) < 2 or any(len(numbers) not in (1, 2) for numbers in cells):
        return None
    found: list[tuple[float, float]] = []
    for i, numbers in enumerate(cells):
        if len(numbers) == 2:
            found.append((numbers[0], numbers[1]))
        elif i == 0 and len(cells[1]) == 2 and numbers[0] <= cells[1][0]:
            found.append((-math.inf, numbers[0]))
        elif i == len(cells) - 1 and len(cells[i - 1]) == 2 and numbers[0] >= cells[i - 1][1]:
            found.append((numbers[0], math.inf))
        else:
            return None
    ordered = all(lo <= hi for lo, hi in found) and all(
        a[1] <= b[0] for a, b in zip(found, found[1:], strict=False)
    )
    return found if ordered else None


def row_for(table: Table, question: str) -> tuple[int, str] | None:
    """The one row whose range holds an amount the question states, with that amount as
    written; None when no row or several rows do, or the table is not a range table.

    >>> t = parse_table("| Amount | Fee |\\n|---|---|\\n| 0 to 999.99 | free |\\n"
    ...                 "| 1,000 to 9,999.99 | 1.00 |\\n| 10,000 and above | 3.00 |")
    >>> row_for(t, "25,000 EUR?"), row_for(t, "exactly 1000"), row_for(t, "5 or 20,000?")
    ((2, '25,000'), (1, '1000'), None)
    >>> row_for(t, "and for 12k?")
    (2, '12k')
    """
    ranges = bands(table)
    if ranges is None:
        return None
    found = {
        i: raw
        for raw, amount in amounts(question)
        for i, (lo, hi) in enumerate(ranges)
        if lo <= amount <= hi
    }
    return found.popitem() if len(found) == 1 else None


def as_rows(passage: str, question: str) -> str:
    """The passage with each table as one line per row, cells named by their headers; a range
    table the question's amount falls in shows only that row.

    >>> text = ("Fees by amount.\\n\\n| Amount (EUR) | SEPA |\\n|---|---|\\n"
    ...         "| 0 to 999.99 | free |\\n| 1,000 and above | 1.00 |\\n")
    >>> print(as_rows(text, "How much for a transfer of 2,500 EUR?"))
    Fees by amount.
    <BLANKLINE>
    The row that applies to 2,500 (row 2 of 2): Amount (EUR): 1,000 and above; SEPA: 1.00
    <BLANKLINE>
    >>> print(as_rows(text, "What does SEPA cost?"))
    Fees by amount.
    <BLANKLINE>
    - Amount (EUR): 0 to 999.99; SEPA: free
    - Amount (EUR): 1,000 and above; SEPA: 1.00
    <BLANKLINE>
    """

    def rewrite(match: re.Match[str]) -> str:
        table = parse_table(match.group(0))
        if table is None:
            return match.group(0)
        chosen = row_for(table, question)
        if chosen is None:
            return "".join(f"- {table.line(row)}\n" for row in table.rows)
        row, amount = chosen
        where = f"row {row + 1} of {len(table.rows)}"
        return f"The row that applies to {amount} ({where}): {table.line(table.rows[row])}\n"

    return _TABLE.sub(rewrite, passage)
