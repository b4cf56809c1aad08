"""`MarketData`: the database-facing side of market data.

Reads (a quote, bar history), a customer's price alerts, and the write path of the price
pipeline: `ingest` runs event batches through one long-lived `Pipeline` with the working orders,
active alerts and positions read from the database, and `apply` stores what each batch changed
(quotes, bars, fired alerts) in one transaction. Only after that commit does it hand the crossed
orders to `on_triggered` (the trading service fills them) and publish each user's share of the
batch on the stream hub, so nothing is announced that the database does not hold.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from services import audit, clock
from services.db.models import MarketPrice, Order, Position, PriceAlert, PriceBar, Quote
from services.errors import AssistantError
from services.events.catalogue import AlertFired, new_event
from services.events.outbox import record
from services.identity import Caller
from services.market.events import INTERVALS, Events, Positions, SymbolTable, TriggerKind, Triggers
from services.market.hub import StreamEvent, StreamHub
from services.market.pipeline import BatchResult, Pipeline
from services.settings import Settings

log = logging.getLogger(__name__)

OnTriggered = Callable[[list[tuple[int, float]]], None]
WORKING = ("open", "partially_filled")
EPOCH = datetime(1970, 1, 1)
SYMBOL = r"^[A-Z0-9][A-Z0-9.\-/]{0,19}$"


class QuoteOut(BaseModel):
    symbol: str
    price: float
    bid: float | None = None
    ask: float | None = None
    volume: float = Field(description="Units traded so far in the current day (UTC).")
    as_of: datetime


class BarOut(BaseModel):
    symbol: str
    interval: str
    start: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float


class NewAlert(BaseModel):
    symbol: str = Field(pattern=SYMBOL, description="Instrument ticker, upper case.")
    direction: Literal["above", "below"]
    threshold: float = Field(gt=0, allow_inf_nan=False, description="Price level that fires it.")


class AlertOut(BaseModel):
    id: int
    user_id: int
    symbol: str
    direction: Literal["above", "below"]
    threshold: float
    status: Literal["active", "fired", "deleted"]
    created_at: datetime
    fired_at: datetime | None = None
    fired_price: float | None = None


class Applied(BaseModel):
    """What one `apply` stored and handed on."""

    quotes: int = 0
    bars: int = 0
    alerts_fired: int = 0
    orders_triggered: int = 0


@dataclass
class _Book:
    """The working set one batch runs against, and who owns what in it."""

    triggers: Triggers
    positions: Positions
    order_owner: dict[int, int] = field(default_factory=dict)
    alert_owner: dict[int, int] = field(default_factory=dict)
    position_rows: list[tuple[int, int, str, float]] = field(default_factory=list)


def _utc(ns: int) -> datetime:
    """Naive UTC datetime (as the database stores them) of nanoseconds since the epoch."""
    return EPOCH + timedelta(microseconds=ns // 1000)


def _ns(moment: datetime) -> int:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    delta = aware - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000


class MarketData:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        hub: StreamHub | None = None,
        on_triggered: OnTriggered | None = None,
    ):
        self.engine = engine
        self.settings = settings
        self.hub = hub or StreamHub(settings.market_stream_queue)
        self.on_triggered = on_triggered
        self.symbols = SymbolTable()
        self.pipeline = Pipeline()
        self._book = _Book(Triggers.empty(), Positions())
        self._handed_over: set[int] = set()  # orders already given to on_triggered
        self._resumed = False

    # -- reads ---------------------------------------------------------------------------
    def quote(self, symbol: str) -> QuoteOut:
        """The latest live quote; where the pipeline has seen none, the latest daily close."""
        symbol = symbol.strip().upper()
        with self.engine.connect() as conn:
            query = select(Quote.__table__).where(Quote.symbol == symbol)
            row = conn.execute(query).mappings().first()
            if row is None:
                close = conn.execute(
                    select(MarketPrice.close, MarketPrice.price_date, MarketPrice.volume)
                    .where(MarketPrice.symbol == symbol)
                    .order_by(MarketPrice.price_date.desc())
                    .limit(1)
                ).first()
        if row is not None:
            return QuoteOut.model_validate(dict(row))
        if close is None:
            raise AssistantError("unknown_symbol", f"there is no quote for {symbol!r}")
        as_of = datetime.combine(close.price_date, datetime.min.time())
        return QuoteOut(symbol=symbol, price=close.close, volume=close.volume, as_of=as_of)

    def latest(self, symbol: str) -> float | None:
        """The latest price as the trading service reads it (a `PriceSource`): the live quote,
        else the latest daily close; None for a symbol with neither."""
        try:
            return self.quote(symbol).price
        except AssistantError:
            return None

    def history(self, symbol: str, interval: str, start: datetime, end: datetime) -> list[BarOut]:
        """Bars of `interval` that start in [start, end), oldest first."""
        if interval not in INTERVALS:
            raise AssistantError(
                "invalid_interval", f"interval {interval!r} is not one of {', '.join(INTERVALS)}"
            )
        if start >= end:
            raise AssistantError("invalid_range", "the start must be before the end")
        start, end = (_utc(_ns(t)) for t in (start, end))
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(PriceBar.__table__)
                .where(
                    PriceBar.symbol == symbol.upper(),
                    PriceBar.interval == interval,
                    PriceBar.start >= start,
                    PriceBar.start < end,
                )
                .order_by(PriceBar.start)
            ).mappings()
            return [BarOut.model_validate(dict(r)) for r in rows]

    def held_symbols(self, caller: Caller) -> set[str]:
        """Symbols the caller holds a position in (what their stream quotes by default)."""
        if caller.user_id is None:
            return set()
        with self.engine.connect() as conn:
            return set(
                conn.execute(
                    select(Position.symbol).where(
                        Position.user_id == caller.user_id, Position.quantity != 0
                    )
                ).scalars()
            )

    # -- alerts --------------------------------------------------------------------------
    def create_alert(
        self, caller: Caller, symbol: str, direction: str, threshold: float
    ) -> AlertOut:
        try:
            new = NewAlert(symbol=symbol.strip().upper(), direction=direction, threshold=threshold)
        except ValidationError as exc:
            problems = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
            log.info("alert refused: %s", problems)
            raise AssistantError("invalid_alert", problems) from None
        if caller.user_id is None:
            raise AssistantError("alert_needs_user", "an alert belongs to a user; name one")
        with self.engine.begin() as conn:
            if not self._known(conn, new.symbol):
                raise AssistantError("unknown_symbol", f"there is no market data for {symbol!r}")
            active = conn.execute(
                select(func.count()).where(
                    PriceAlert.user_id == caller.user_id, PriceAlert.status == "active"
                )
            ).scalar_one()
            if active >= self.settings.market_alerts_per_user:
                raise AssistantError(
                    "too_many_alerts",
                    f"you have {active} active alerts; the limit is "
                    f"{self.settings.market_alerts_per_user}",
                )
            alert_id = conn.execute(
                insert(PriceAlert).values(
                    user_id=caller.user_id,
                    **new.model_dump(),
                    status="active",
                    created_at=clock.utcnow(),
                )
            ).inserted_primary_key[0]
        audit.record(self.engine, caller, "market.alert_created", "ok", alert_id=alert_id)
        return self._alert(alert_id)

    def list_alerts(self, caller: Caller) -> list[AlertOut]:
        """A customer's own alerts that are not deleted, newest first; staff see everyone's."""
        query = select(PriceAlert.__table__).where(PriceAlert.status != "deleted")
        if caller.is_scoped:
            query = query.where(PriceAlert.user_id == caller.user_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(PriceAlert.id.desc())).mappings()
            return [AlertOut.model_validate(dict(r)) for r in rows]

    def delete_alert(self, caller: Caller, alert_id: int) -> AlertOut:
        """A customer deletes only their own; another's id is "not found", as if absent."""
        query = update(PriceAlert).where(PriceAlert.id == alert_id, PriceAlert.status != "deleted")
        if caller.is_scoped:
            query = query.where(PriceAlert.user_id == caller.user_id)
        with self.engine.begin() as conn:
            if conn.execute(query.values(status="deleted")).rowcount != 1:
                raise AssistantError("unknown_alert", f"there is no alert {alert_id}")
        audit.record(self.engine, caller, "market.alert_deleted", "ok", alert_id=alert_id)
        return self._alert(alert_id)

    def _alert(self, alert_id: int) -> AlertOut:
        with self.engine.connect() as conn:
            query = select(PriceAlert.__table__).where(PriceAlert.id == alert_id)
            return AlertOut.model_validate(dict(conn.execute(query).mappings().one()))

    @staticmethod
    def _known(conn: Connection, symbol: str) -> bool:
        for model in (Quote, MarketPrice):
            if conn.execute(select(model.symbol).where(model.symbol == symbol).limit(1)).first():
                return True
        return False

    # -- the write path of the pipeline ----------------------------------------------------
    def ingest(self, events: Events) -> Applied:
        """Run `events` (ids from `self.symbols`) through the pipeline batch by batch, each
        against the working set as the database has it then, and apply every batch. The whole
        stream is checked first, so a bad event refuses it before any batch is stored."""
        if not self._resumed:
            self._resume()
        events.check(self.pipeline.after)
        total = Applied()
        for part in events.batches(self.settings.market_batch_size):
            self._load_book()
            done = self.apply(self.pipeline.process(part))
            for name in Applied.model_fields:
                setattr(total, name, getattr(total, name) + getattr(done, name))
        return total

    def _resume(self) -> None:
        """Carry on from what the database holds (another process may have stored it): the
        last prices, and each symbol's latest bar of each interval, which the next events may
        extend. Without this a new process would overwrite a stored bar with only its part."""
        with self.engine.connect() as conn:
            quotes = conn.execute(select(Quote.symbol, Quote.price, Quote.as_of)).all()
            latest = (
                select(PriceBar.symbol, PriceBar.interval, func.max(PriceBar.start).label("start"))
                .group_by(PriceBar.symbol, PriceBar.interval)
                .subquery()
            )
            bars = (
                conn.execute(
                    select(PriceBar.__table__).join(
                        latest,
                        (PriceBar.symbol == latest.c.symbol)
                        & (PriceBar.interval == latest.c.interval)
                        & (PriceBar.start == latest.c.start),
                    )
                )
                .mappings()
                .all()
            )
        ids = self.symbols.id
        self.pipeline.resume(
            [(ids(symbol), price, _ns(as_of)) for symbol, price, as_of in quotes],
            [
                (
                    b["interval"],
                    ids(b["symbol"]),
                    _ns(b["start"]),
                    b["open"],
                    b["high"],
                    b["low"],
                    b["volume"],
                )
                for b in bars
            ],
        )
        self._resumed = True

    def _load_book(self) -> None:
        """Working limit and stop orders, active alerts and open positions, into the pipeline."""
        with self.engine.connect() as conn:
            orders = conn.execute(
                select(
                    Order.id,
                    Order.user_id,
                    Order.symbol,
                    Order.side,
                    Order.order_type,
                    Order.limit_price,
                ).where(
                    Order.status.in_(WORKING),
                    Order.order_type.in_(("limit", "stop")),
                    Order.limit_price.is_not(None),
                )
            ).all()
            alerts = conn.execute(
                select(
                    PriceAlert.id,
                    PriceAlert.user_id,
                    PriceAlert.symbol,
                    PriceAlert.direction,
                    PriceAlert.threshold,
                ).where(PriceAlert.status == "active")
            ).all()
            held = conn.execute(
                select(Position.id, Position.user_id, Position.symbol, Position.quantity).where(
                    Position.quantity != 0
                )
            ).all()
        rows: list[tuple[int, int, TriggerKind, float]] = []
        book = _Book(Triggers.empty(), Positions())
        for oid, uid, symbol, side, kind, level in orders:
            if oid not in self._handed_over:
                rows.append(
                    (oid, self.symbols.id(symbol), TriggerKind.for_order(side, kind), level)
                )
                book.order_owner[oid] = uid
        for aid, uid, symbol, direction, level in alerts:
            rows.append(
                (aid, self.symbols.id(symbol), TriggerKind[f"ALERT_{direction.upper()}"], level)
            )
            book.alert_owner[aid] = uid
        book.triggers = Triggers.of(rows)
        book.position_rows = [tuple(r) for r in held]
        book.positions = Positions.of([self.symbols.id(r[2]) for r in held], [r[3] for r in held])
        self._book = book
        self.pipeline.set_triggers(book.triggers)
        self.pipeline.set_positions(book.positions)

    def apply(self, result: BatchResult) -> Applied:
        """Store one batch's quotes, bars and fired alerts (a result of `self.pipeline`, run
        against the working set `ingest` loaded) in one transaction; then hand the crossed
        orders to `on_triggered` and publish each user's events."""
        book, names = self._book, self.symbols
        quotes = [
            {"symbol": names.name(s), "price": p, "volume": v, "as_of": _utc(t)}
            for s, p, t, v in zip(
                result.quote_symbol.tolist(),
                result.quote_price.tolist(),
                result.quote_ts.tolist(),
                result.quote_volume.tolist(),
                strict=True,
            )
        ]
        bars = [
            {
                "symbol": names.name(s),
                "interval": interval,
                "start": _utc(t),
                "open": o,
                "high": h,
                "low": lo,
                "close": c,
                "volume": v,
            }
            for interval, b in result.bars.items()
            for s, t, o, h, lo, c, v in zip(
                b.symbol.tolist(),
                b.start.tolist(),
                b.open.tolist(),
                b.high.tolist(),
                b.low.tolist(),
                b.close.tolist(),
                b.volume.tolist(),
                strict=True,
            )
        ]
        fired_alerts: list[tuple[int, int, float]] = []
        with self.engine.begin() as conn:
            _upsert(conn, Quote, quotes, ("symbol",))
            _upsert(conn, PriceBar, bars, ("symbol", "interval", "start"))
            for alert_id, ts, price in result.fired.alerts():
                changed = conn.execute(
                    update(PriceAlert)
                    .where(PriceAlert.id == alert_id, PriceAlert.status == "active")
                    .values(status="fired", fired_at=_utc(ts), fired_price=price)
                ).rowcount
                if changed:  # deleted meanwhile: it no longer fires
                    fired_alerts.append((alert_id, ts, price))
                    _announce_alert(conn, alert_id, price)
        orders = [(o, p) for o, p in result.fired.orders() if o in book.order_owner]
        if orders and self.on_triggered is not None:
            self.on_triggered(orders)  # if it fails, a later crossing offers them again
        self._handed_over.update(o for o, _ in orders)
        self._publish(result, quotes, orders, fired_alerts)
        return Applied(
            quotes=len(quotes),
            bars=len(bars),
            alerts_fired=len(fired_alerts),
            orders_triggered=len(orders),
        )

    def _publish(
        self,
        result: BatchResult,
        quotes: list[dict],
        orders: list[tuple[int, float]],
        fired_alerts: list[tuple[int, int, float]],
    ) -> None:
        book, hub = self._book, self.hub
        for q in quotes:
            hub.publish_quote(
                StreamEvent(
                    kind="quote",
                    symbol=q["symbol"],
                    data={
                        "price": q["price"],
                        "volume": q["volume"],
                        "as_of": q["as_of"].isoformat(),
                    },
                )
            )
        for order_id, price in orders:
            hub.publish_to_user(
                book.order_owner[order_id],
                StreamEvent(
                    kind="order", data={"order_id": order_id, "status": "triggered", "price": price}
                ),
            )
        for alert_id, ts, price in fired_alerts:
            hub.publish_to_user(
                book.alert_owner[alert_id],
                StreamEvent(
                    kind="alert",
                    data={
                        "alert_id": alert_id,
                        "status": "fired",
                        "price": price,
                        "fired_at": _utc(ts).isoformat(),
                    },
                ),
            )
        for i, value in zip(
            result.position_index.tolist(), result.position_value.tolist(), strict=True
        ):
            pid, uid, symbol, quantity = book.position_rows[i]
            hub.publish_to_user(
                uid,
                StreamEvent(
                    kind="position",
                    symbol=symbol,
                    data={"position_id": pid, "quantity": quantity, "value": value},
                ),
            )


def _upsert(conn: Connection, model: type, rows: Sequence[dict], keys: tuple[str, ...]) -> None:
    """Insert rows, replacing the ones whose `keys` already exist (PostgreSQL and SQLite use
    ON CONFLICT; other databases delete the old rows first, in the same transaction)."""
    if not rows:
        return
    table = model.__table__
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as upsert
        else:
            from sqlalchemy.dialects.postgresql import insert as upsert
        stmt = upsert(table)
        changed = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
        for chunk in _chunks(rows, 500):
            conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=changed), chunk)
        return
    for row in rows:
        conn.execute(delete(table).where(*(table.c[k] == row[k] for k in keys)))
    conn.execute(insert(table), list(rows))


def _chunks(rows: Sequence[dict], size: int):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _announce_alert(conn: Connection, alert_id: int, price: float) -> None:
    """The alert's owner hears of it through the outbox, in the transaction that fired it."""
    alert = conn.execute(select(PriceAlert.__table__).where(PriceAlert.id == alert_id)).one()
    fired = AlertFired(
        alert_id=alert_id,
        user_id=alert.user_id,
        symbol=alert.symbol,
        direction=alert.direction,
        threshold=float(alert.threshold),
        price=float(price),
    )
    record(conn, new_event(fired, subject=f"alerts/{alert_id}"))
