"""How fast the trading service books orders, and whether contention ever overspends.

On a fresh demo database (SQLite in a temporary folder unless an engine is given): market
orders placed one after another (each checks KYC, account, limits, buying power and hours,
then writes the order, two ledger rows, the position and the cash in one locked
transaction), previews, portfolios, and then `threads` threads racing to place orders on one
account funded for only half of them, which must accept exactly the affordable half and leave
no negative cash. Crypto orders are used because they trade at any hour.

    trading-assist bench trading [--orders 200] [--threads 4] [--json]
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path

from pydantic import BaseModel, Field
from sqlalchemy import Engine, insert, select, update

from services import clock
from services.db import models as m
from services.db.engines import make_engine
from services.db.migrate import upgrade
from services.demo_data.generator import load_demo_data
from services.identity import Caller, Role
from services.kyc.service import standing
from services.settings import Settings
from services.trading import OrderRequest, TradingError, TradingService

SYMBOL, UNITS = "BTCUSD", 0.001


class Latency(BaseModel):
    calls: int
    per_s: float = Field(description="Calls per second, one after another.")
    p50_ms: float
    p95_ms: float


class ContentionReport(BaseModel):
    threads: int
    attempts: int = Field(description="Orders tried, all on one account.")
    affordable: int = Field(description="How many the account's cash pays for.")
    accepted: int = Field(description="How many the service placed.")
    refused: int = Field(description="How many it refused for buying power.")
    per_s: float = Field(description="Orders decided per second, all threads together.")
    final_cash: float = Field(description="The account's cash afterwards (never below zero).")


class TradingBenchReport(BaseModel):
    backend: str
    place_market: Latency
    preview: Latency
    portfolio: Latency
    contention: ContentionReport
    correct: bool = Field(description="Contention accepted exactly the affordable orders.")


def _latency(durations: list[float]) -> Latency:
    ordered = sorted(durations)
    return Latency(
        calls=len(ordered),
        per_s=len(ordered) / sum(ordered),
        p50_ms=statistics.median(ordered) * 1000,
        p95_ms=ordered[int(0.95 * (len(ordered) - 1))] * 1000,
    )


def _timed(call, count: int) -> list[float]:  # noqa: ANN001 - any callable of the index
    out = []
    for i in range(count):
        start = time.perf_counter()
        call(i)
        out.append(time.perf_counter() - start)
    return out


def verified_traders(engine: Engine) -> list[tuple[int, int]]:
    """(user id, crypto account id) of customers the KYC service calls verified, whose account
    is active."""
    now = clock.now()
    with engine.connect() as conn:
        accounts = conn.execute(
            select(m.TradingAccount.user_id, m.TradingAccount.id).where(
                m.TradingAccount.account_type == "crypto", m.TradingAccount.status == "active"
            )
        ).all()
        return [
            (user_id, account_id)
            for user_id, account_id in accounts
            if standing(conn, user_id, now).verified
        ]


def fund(engine: Engine, user_id: int, account_id: int, cash: float) -> None:
    """Set the account's cash, with the ledger row that explains it."""
    with engine.begin() as conn:
        old = conn.execute(
            select(m.TradingAccount.cash_balance).where(m.TradingAccount.id == account_id)
        ).scalar_one()
        conn.execute(
            insert(m.Transaction).values(
                user_id=user_id,
                account_id=account_id,
                type="deposit" if cash >= old else "withdrawal",
                amount=round(cash - float(old), 2),
                currency="USD",
                executed_at=clock.utcnow(),
            )
        )
        conn.execute(
            update(m.TradingAccount)
            .where(m.TradingAccount.id == account_id)
            .values(cash_balance=cash)
        )


def run(
    engine: Engine, settings: Settings, *, orders: int = 200, threads: int = 4
) -> TradingBenchReport:
    """Load demo data into `engine` (its tables are replaced) and measure."""
    upgrade(engine)
    load_demo_data(engine, seed=7, as_of=clock.today(), users=60)
    service = TradingService(engine, settings)
    traders = verified_traders(engine)
    if len(traders) < 2:
        raise RuntimeError("the demo data has too few verified crypto traders to measure")
    for user_id, account_id in traders:
        fund(engine, user_id, account_id, 1_000_000.0)
    buy = OrderRequest(symbol=SYMBOL, side="buy", quantity=UNITS)

    def place(i: int) -> None:
        user_id, account_id = traders[i % len(traders)]
        caller = Caller(user_id=user_id, role=Role.CUSTOMER)
        service.place_order(caller, buy.model_copy(update={"account_id": account_id}), f"b{i}")

    def preview(i: int) -> None:
        user_id, account_id = traders[i % len(traders)]
        caller = Caller(user_id=user_id, role=Role.CUSTOMER)
        service.preview_order(caller, buy.model_copy(update={"account_id": account_id}))

    def portfolio(i: int) -> None:
        user_id, _ = traders[i % len(traders)]
        service.portfolio(Caller(user_id=user_id, role=Role.CUSTOMER))

    place_market = _latency(_timed(place, orders))
    previews = _latency(_timed(preview, orders))
    portfolios = _latency(_timed(portfolio, max(10, orders // 4)))
    contention = _contention(engine, service, traders[0], threads, orders)
    return TradingBenchReport(
        backend=engine.dialect.name,
        place_market=place_market,
        preview=previews,
        portfolio=portfolios,
        contention=contention,
        correct=contention.accepted == contention.affordable and contention.final_cash >= 0,
    )


def _contention(
    engine: Engine, service: TradingService, trader: tuple[int, int], threads: int, orders: int
) -> ContentionReport:
    user_id, account_id = trader
    caller = Caller(user_id=user_id, role=Role.CUSTOMER)
    request = OrderRequest(account_id=account_id, symbol=SYMBOL, side="buy", quantity=UNITS)
    cost = service.preview_order(caller, request)
    each = cost.estimated_cost + cost.estimated_fees
    for order in service.list_orders(caller, working_only=True, limit=500):
        service.cancel_order(caller, order.order_id)  # nothing else may hold the cash
    attempts = max(threads * 2, orders // 2)
    affordable = attempts // 2
    fund(engine, user_id, account_id, round(each * affordable + each / 2, 2))
    accepted, refused = [], []
    start = threading.Barrier(threads)

    def trade(worker: int) -> None:
        start.wait()
        for i in range(worker, attempts, threads):
            try:
                accepted.append(service.place_order(caller, request, f"race-{i}"))
            except TradingError as exc:
                refused.append(exc.code)

    began = time.perf_counter()
    workers = [threading.Thread(target=trade, args=(w,)) for w in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    with engine.connect() as conn:
        cash = conn.execute(
            select(m.TradingAccount.cash_balance).where(m.TradingAccount.id == account_id)
        ).scalar_one()
    return ContentionReport(
        threads=threads,
        attempts=attempts,
        affordable=affordable,
        accepted=len(accepted),
        refused=refused.count("insufficient_buying_power"),
        per_s=attempts / elapsed,
        final_cash=float(cash),
    )


def run_on_sqlite(*, orders: int = 200, threads: int = 4) -> TradingBenchReport:
    """The bench on a throwaway SQLite database."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(_env_file=None, var_dir=Path(folder))
        engine = make_engine(settings.database_url)
        try:
            return run(engine, settings, orders=orders, threads=threads)
        finally:
            engine.dispose()
