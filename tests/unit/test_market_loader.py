"""Bar files into price events: CSV and the sample's SQLite tables; malformed files refused whole
with the row and the reason."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from evals.bench_marketdata import find_sample
from services.errors import AssistantError
from services.market.events import NS_PER_S, SymbolTable
from services.market.loader import load_bar_file

HEADER = "symbol,date,open,high,low,close,volume\n"
DAY = 86400 * NS_PER_S
JAN2 = 1_704_153_600 * NS_PER_S  # 2024-01-02T00:00Z


def _csv(tmp_path, body: str, header: str = HEADER):
    path = tmp_path / "bars.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_csv_bars_become_four_ticks_each_in_time_order(tmp_path):
    path = _csv(
        tmp_path,
        "MSFT,2024-01-03,11,12,9,10,400\n"  # closed down: open, high, low, close
        "AAPL,2024-01-02,100,105,99,104,8\n"  # closed up: open, low, high, close
        "MSFT,2024-01-02,10,11,10,11,40\n",
    )
    symbols = SymbolTable()
    events = load_bar_file(path, symbols)
    assert symbols.names == ["MSFT", "AAPL"]
    quarter = DAY // 4
    assert events.ts.tolist() == [
        JAN2, JAN2, JAN2 + quarter, JAN2 + quarter, JAN2 + 2 * quarter, JAN2 + 2 * quarter,
        JAN2 + 3 * quarter, JAN2 + 3 * quarter,
        JAN2 + DAY, JAN2 + DAY + quarter, JAN2 + DAY + 2 * quarter, JAN2 + DAY + 3 * quarter,
    ]  # fmt: skip
    aapl = events.price[events.symbol == 1].tolist()
    msft = events.price[events.symbol == 0].tolist()
    assert aapl == [100, 99, 105, 104]
    assert msft == [10, 10, 11, 11, 11, 12, 9, 10]
    assert events.size[events.symbol == 1].tolist() == [2.0] * 4


def test_the_sample_tables_are_read_in_place(tmp_path):
    sample = find_sample()
    assert sample is not None
    symbols = SymbolTable()
    daily = load_bar_file(sample, symbols, table="ohlcv_daily")
    hourly = load_bar_file(sample, symbols, table="ohlcv_hourly")
    with sqlite3.connect(f"file:{sample}?mode=ro", uri=True) as conn:
        bars_daily = conn.execute("SELECT COUNT(*) FROM ohlcv_daily").fetchone()[0]
        first_btc = conn.execute(
            "SELECT open FROM ohlcv_hourly ORDER BY bar_time LIMIT 1"
        ).fetchone()[0]
    assert len(daily) == 4 * bars_daily and len(hourly) == 4 * 120
    assert np.all(np.diff(daily.ts) >= 0)
    assert hourly.price[0] == first_btc
    assert np.diff(hourly.ts)[:3].tolist() == [15 * 60 * NS_PER_S] * 3  # an hour in quarters
    with pytest.raises(AssistantError, match="name the bar table"):
        load_bar_file(sample, symbols)


@pytest.mark.parametrize(
    "body, header, reason",
    [
        ("AAPL,2024-01-02,100,105,99,104,8\n", "symbol,date,open,high,low,close\n",
         "missing columns: volume"),
        ("AAPL,2024-01-02,100,105,99,104,8\n", "symbol,open,high,low,close,volume\n",
         "missing columns: a time column"),
        ("AAPL,2024-01-02,100,105,99,104,8\nAAPL,2024-01-03,abc,105,99,104,8\n", HEADER,
         "row 3: open 'abc' is not a number"),
        ("AAPL,2024-01-02,100,99,98,104,8\n", HEADER,
         "row 2: high is below the open or the close"),
        ("AAPL,2024-01-02,100,105,101,104,8\n", HEADER,
         "row 2: low is above the open or the close"),
        ("AAPL,2024-01-02,100,105,0,104,8\n", HEADER, "row 2: low is not positive"),
        ("AAPL,2024-01-02,100,105,99,104,-8\n", HEADER, "row 2: volume is negative"),
        ("AAPL,2024-01-02,100,105,99,nan,8\n", HEADER, "row 2: a value is not finite"),
        ("AAPL,02/01/2024,100,105,99,104,8\n", HEADER, "row 2: time '02/01/2024' is not"),
        ("AAPL,2024-01-02,100,105,99,104\n", HEADER, "row 2: 6 fields, the header has 7"),
        (",2024-01-02,100,105,99,104,8\n", HEADER, "row 2: symbol '' is empty"),
        ("AAPL,2024-01-02,100,105,99,104,8\nAAPL,2024-01-02,100,105,99,104,8\n", HEADER,
         "two bars of AAPL start at the same time"),
        ("", HEADER, "no bars in the file"),
        ("", "", "the file is empty"),
    ],
)  # fmt: skip
def test_a_malformed_csv_is_refused_with_its_row(tmp_path, body, header, reason):
    symbols = SymbolTable()
    with pytest.raises(AssistantError) as caught:
        load_bar_file(_csv(tmp_path, body, header), symbols)
    assert caught.value.code == "market_file_invalid"
    assert caught.value.status == 422
    assert reason in caught.value.message


def test_other_unreadable_files_are_refused(tmp_path):
    binary = tmp_path / "bars.csv"
    binary.write_bytes(b"symbol,date\n\xff\xfe\x00")
    broken = tmp_path / "bars.sqlite"
    broken.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    plain = tmp_path / "plain.sqlite"
    with sqlite3.connect(plain) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    for path, reason in (
        (binary, "not a UTF-8 CSV file"),
        (broken, "cannot read the SQLite file"),
        (plain, "bar tables: none"),
        (tmp_path / "missing.csv", "no such file"),
    ):
        with pytest.raises(AssistantError, match=reason):
            load_bar_file(path, SymbolTable())
    with pytest.raises(AssistantError, match="no table 'bars'"):
        load_bar_file(plain, SymbolTable(), table="bars")


def test_bar_length_can_be_given(tmp_path):
    path = _csv(tmp_path, "AAPL,2024-01-02T10:00:00Z,100,105,99,104,8\n")
    events = load_bar_file(path, SymbolTable(), bar_seconds=60)
    assert np.diff(events.ts).tolist() == [15 * NS_PER_S] * 3
    with pytest.raises(AssistantError, match="must be positive"):
        load_bar_file(path, SymbolTable(), bar_seconds=0)
