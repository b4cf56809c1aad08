"""Bar files in, price events out: a CSV file, or a table of a SQLite file shaped like the
public sample's `ohlcv_daily` / `ohlcv_hourly` (symbol, a time column, open, high, low, close,
volume).

A file is read and checked whole before anything is returned, so a malformed file is refused
with the row and the reason and nothing of it reaches the pipeline or the database. SQLite files
are opened read-only where they lie; nothing is copied.

Each bar becomes four ticks spread over its length: the open, then the low and the high (the
high first when the bar closed down), then the close, each a quarter of the volume. That is the
usual path assumption of bar replays, and it lets a limit, stop or alert between the low and
the high fire inside the bar, in a plausible order.
"""

from __future__ import annotations

import csv
import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from services.errors import AssistantError
from services.market.events import NS_PER_S, Events, SymbolTable

log = logging.getLogger(__name__)

TIME_COLUMNS = ("time", "start", "timestamp", "bar_time", "bar_date", "date")
VALUE_COLUMNS = ("open", "high", "low", "close", "volume")
DAY_NS = 86400 * NS_PER_S
SQLITE_MAGIC = b"SQLite format 3\x00"


def load_bar_file(
    path: Path,
    symbols: SymbolTable,
    *,
    table: str | None = None,
    bar_seconds: int | None = None,
) -> Events:
    """The bars of `path` as time-ordered events. `table` picks the table of a SQLite file
    that has several bar tables; `bar_seconds` is the bar length, by default the shortest gap
    between two bars of one symbol (one day for a file with one bar per symbol)."""
    if not path.is_file():
        raise _invalid(path, "no such file")
    with path.open("rb") as head:
        is_sqlite = head.read(16) == SQLITE_MAGIC
    rows = _sqlite_rows(path, table) if is_sqlite else _csv_rows(path)
    names, starts, values = _parse(path, rows)
    return _to_events(path, names, starts, values, symbols, bar_seconds)


def _invalid(path: Path, reason: str) -> AssistantError:
    log.warning("bar file refused: %s: %s", path, reason)
    return AssistantError("market_file_invalid", f"{path.name}: {reason}")


def _columns(path: Path, header: list[str]) -> tuple[str, ...]:
    """The header's symbol, time and value column names, in the order they are read."""
    lower = [h.strip().lower() for h in header]
    time_col = next((c for c in TIME_COLUMNS if c in lower), None)
    missing = [c for c in ("symbol", *VALUE_COLUMNS) if c not in lower]
    if time_col is None:
        missing.append(f"a time column ({', '.join(TIME_COLUMNS)})")
    if missing:
        raise _invalid(path, f"missing columns: {', '.join(missing)}")
    return ("symbol", time_col, *VALUE_COLUMNS)


def _csv_rows(path: Path) -> list[tuple]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise _invalid(path, "the file is empty")
            wanted = _columns(path, header)
            lower = [h.strip().lower() for h in header]
            index = [lower.index(c) for c in wanted]
            rows = []
            for line, record in enumerate(reader, start=2):
                if not record:
                    continue
                if len(record) != len(header):
                    raise _invalid(
                        path, f"row {line}: {len(record)} fields, the header has {len(header)}"
                    )
                rows.append((line, *(record[i] for i in index)))
            return rows
    except UnicodeDecodeError:
        raise _invalid(path, "not a UTF-8 CSV file") from None


def _sqlite_rows(path: Path, table: str | None) -> list[tuple]:
    uri = f"file:{path.resolve()}?mode=ro"
    try:
        with sqlite3.connect(uri, uri=True) as conn:
            tables = [
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            bar_tables = [t for t in tables if _is_bar_table(conn, t)]
            if table is None:
                if len(bar_tables) != 1:
                    found = ", ".join(bar_tables) or "none"
                    raise _invalid(path, f"name the bar table to read (bar tables: {found})")
                table = bar_tables[0]
            elif table not in tables:
                raise _invalid(path, f"no table {table!r}")
            header = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
            wanted = _columns(path, header)
            select = ", ".join(f'"{c}"' for c in wanted)
            cursor = conn.execute(f'SELECT rowid, {select} FROM "{table}"')  # noqa: S608
            return [tuple(r) for r in cursor]
    except sqlite3.DatabaseError as exc:
        raise _invalid(path, f"cannot read the SQLite file: {exc}") from None


def _is_bar_table(conn: sqlite3.Connection, table: str) -> bool:
    names = {r[1].lower() for r in conn.execute(f'PRAGMA table_info("{table}")')}
    return {"symbol", *VALUE_COLUMNS} <= names and bool(names & set(TIME_COLUMNS))


def _parse(path: Path, rows: list[tuple]) -> tuple[list[str], np.ndarray, np.ndarray]:
    if not rows:
        raise _invalid(path, "no bars in the file")
    names: list[str] = []
    starts = np.empty(len(rows), dtype=np.int64)
    values = np.empty((len(rows), 5))
    for i, (line, symbol, when, *numbers) in enumerate(rows):
        name = str(symbol or "").strip().upper()
        if not name or len(name) > 20:
            raise _invalid(path, f"row {line}: symbol {symbol!r} is empty or too long")
        names.append(name)
        starts[i] = _timestamp(path, line, when)
        for j, value in enumerate(numbers):
            try:
                values[i, j] = float(value)
            except (TypeError, ValueError):
                raise _invalid(
                    path, f"row {line}: {VALUE_COLUMNS[j]} {value!r} is not a number"
                ) from None
    lines = [r[0] for r in rows]
    o, h, lo, c, v = values.T
    problems = (
        (~np.isfinite(values).all(axis=1), "a value is not finite"),
        (lo <= 0, "low is not positive"),
        (h < np.maximum(o, c), "high is below the open or the close"),
        (lo > np.minimum(o, c), "low is above the open or the close"),
        (v < 0, "volume is negative"),
    )
    for bad, reason in problems:
        if bad.any():
            raise _invalid(path, f"row {lines[int(np.flatnonzero(bad)[0])]}: {reason}")
    return names, starts, values


def _timestamp(path: Path, line: int, when: object) -> int:
    """Nanoseconds since the epoch of an ISO date or date-time (naive means UTC)."""
    try:
        moment = datetime.fromisoformat(str(when).strip())
    except ValueError:
        raise _invalid(path, f"row {line}: time {when!r} is not an ISO date or time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * NS_PER_S + delta.microseconds * 1000


def _to_events(
    path: Path,
    names: list[str],
    starts: np.ndarray,
    values: np.ndarray,
    symbols: SymbolTable,
    bar_seconds: int | None,
) -> Events:
    sym = np.array([symbols.id(n) for n in names], dtype=np.uint16)
    order = np.lexsort((starts, sym))
    s_sym, s_start = sym[order], starts[order]
    same = s_sym[1:] == s_sym[:-1]
    gaps = np.diff(s_start)[same]
    if (gaps == 0).any():
        k = int(np.flatnonzero(same & (np.diff(s_start) == 0))[0])
        raise _invalid(path, f"two bars of {symbols.name(int(s_sym[k]))} start at the same time")
    if bar_seconds is not None and bar_seconds <= 0:
        raise _invalid(path, "the bar length must be positive")
    length = bar_seconds * NS_PER_S if bar_seconds else int(gaps.min()) if len(gaps) else DAY_NS

    o, h, lo, c, v = values.T
    down = c < o
    path_prices = np.stack([o, np.where(down, h, lo), np.where(down, lo, h), c], axis=1)
    offsets = np.arange(4, dtype=np.int64) * (length // 4)
    ts = (starts[:, None] + offsets[None, :]).ravel()
    by_time = np.argsort(ts, kind="stable")
    return Events.of(
        np.repeat(sym, 4)[by_time],
        ts[by_time],
        path_prices.ravel()[by_time],
        np.repeat(v / 4, 4)[by_time],
    )
