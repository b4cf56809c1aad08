"""The end state of a price stream, to compare the vectorised pipeline with the plain loop.

Both implementations fold into a `MarketState`: the vectorised one batch result by batch result
(`record`), the plain one event by event. `differences` says in words what does not match.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.market.pipeline import BatchResult

BarKey = tuple[str, int, int]  # interval, symbol id, start ns


@dataclass
class MarketState:
    """Everything the pipeline produced over a stream: quotes (price, ts, day volume) by
    symbol, every bar at every interval as it ended, fired triggers in order, position values."""

    quotes: dict[int, tuple[float, int, float]] = field(default_factory=dict)
    bars: dict[BarKey, tuple[float, float, float, float, float]] = field(default_factory=dict)
    fired: list[tuple[int, int, int, float]] = field(default_factory=list)  # event, kind, id, $
    position_values: list[float] = field(default_factory=list)

    def record(self, result: BatchResult) -> None:
        """Fold one vectorised batch result in (later batches overwrite what they extend)."""
        self.quotes.update(
            zip(
                result.quote_symbol.tolist(),
                zip(
                    result.quote_price.tolist(),
                    result.quote_ts.tolist(),
                    result.quote_volume.tolist(),
                    strict=True,
                ),
                strict=True,
            )
        )
        for name, b in result.bars.items():
            keys = ((name, s, t) for s, t in zip(b.symbol.tolist(), b.start.tolist(), strict=True))
            values = zip(
                b.open.tolist(),
                b.high.tolist(),
                b.low.tolist(),
                b.close.tolist(),
                b.volume.tolist(),
                strict=True,
            )
            self.bars.update(zip(keys, values, strict=True))
        f = result.fired
        self.fired.extend(
            zip(f.event.tolist(), f.kind.tolist(), f.id.tolist(), f.price.tolist(), strict=True)
        )
        for i, v in zip(
            result.position_index.tolist(), result.position_value.tolist(), strict=True
        ):
            self.position_values[i] = v

    def differences(self, other: MarketState, limit: int = 5) -> list[str]:
        """What differs, in words (at most `limit` items per part). Prices and times must be
        equal; volumes are sums whose rounding depends on how the additions were grouped, so
        they are compared to 1e-9 relative."""
        out: list[str] = []

        def note(part: str, a: object, b: object) -> None:
            if sum(line.startswith(part) for line in out) < limit:
                out.append(f"{part}: {a!r} != {b!r}")

        for key in sorted(self.quotes.keys() | other.quotes.keys()):
            a, b = self.quotes.get(key), other.quotes.get(key)
            if a is None or b is None or a[:2] != b[:2] or not _close(a[2], b[2]):
                note(f"quote {key}", a, b)
        for key in sorted(self.bars.keys() | other.bars.keys()):
            a, b = self.bars.get(key), other.bars.get(key)
            if a is None or b is None or a[:4] != b[:4] or not _close(a[4], b[4]):
                note(f"bar {key}", a, b)
        if self.fired != other.fired:
            note("fired", self.fired[:limit], other.fired[:limit])
        pv_a, pv_b = self.position_values, other.position_values
        if len(pv_a) != len(pv_b) or any(
            not (a == b or (math.isnan(a) and math.isnan(b)))
            for a, b in zip(pv_a, pv_b, strict=True)
        ):
            note("positions", pv_a[:limit], pv_b[:limit])
        return out


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
