"""Realised and unrealised profit by FIFO lots, from an account's fills of one symbol.

Every buy opens a lot; every sell closes the oldest lots first, and the difference between
what the sold units fetched and what those lots cost is realised. What is left open is the
position, at the cost of its remaining lots. Commissions are not part of lot costs: they are
reported apart (`fees_paid`), so `realised + unrealised + fees + income` equals the change in
`cash + market value` since the deposits, which is how the portfolio reconciles with the ledger.

>>> book = fifo([Fill("buy", 10, 100.0), Fill("buy", 10, 120.0), Fill("sell", 15, 130.0)])
>>> book.quantity, book.cost, book.realised
(5.0, 600.0, 350.0)
>>> round(book.unrealised(110.0), 2)
-50.0
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Literal

EPSILON = 1e-9


@dataclass(frozen=True)
class Fill:
    side: Literal["buy", "sell"]
    quantity: float
    price: float


@dataclass
class LotBook:
    lots: deque[list[float]] = field(default_factory=deque)  # [quantity, price], oldest first
    realised: float = 0.0

    @property
    def quantity(self) -> float:
        return float(sum(lot[0] for lot in self.lots))

    @property
    def cost(self) -> float:
        return float(sum(lot[0] * lot[1] for lot in self.lots))

    @property
    def avg_cost(self) -> float:
        quantity = self.quantity
        return self.cost / quantity if quantity > EPSILON else 0.0

    def unrealised(self, price: float) -> float:
        return self.quantity * price - self.cost

    def apply(self, fill: Fill) -> None:
        if fill.side == "buy":
            self.lots.append([fill.quantity, fill.price])
            return
        left = fill.quantity
        while left > EPSILON and self.lots:
            lot = self.lots[0]
            taken = min(lot[0], left)
            self.realised += taken * (fill.price - lot[1])
            lot[0] -= taken
            left -= taken
            if lot[0] <= EPSILON:
                self.lots.popleft()
        if left > EPSILON:  # units sold beyond the lots have no known cost: all of it is gain
            self.realised += left * fill.price


def fifo(fills: list[Fill]) -> LotBook:
    """The lots left and the profit realised after `fills`, applied in the order given."""
    book = LotBook()
    for fill in fills:
        book.apply(fill)
    return book
