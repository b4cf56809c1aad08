"""`trading-assist trading ...`: read a customer's trading books from the command line.

Read-only on purpose: placing and cancelling orders go through the assistant's confirmation
flow, never a command an operator can run without the customer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated

import typer
from pydantic import BaseModel
from rich.console import Console

from services.errors import AssistantError

trading_app = typer.Typer(help="Portfolios, orders and order previews.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)

UserId = Annotated[
    int | None, typer.Option(help="Act as this user (default: the operator, as admin).")
]


def _run(user_id: int | None, read: Callable) -> None:  # noqa: ANN001 - (service, caller) -> ...
    """Open the service as `user_id`, print what `read` returns as JSON, errors as JSON too."""
    from cli.main import _settings
    from services.db.engines import make_engine
    from services.db.migrate import require_schema
    from services.trading import TradingService
    from services.users import caller_for

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        require_schema(engine)
        out = read(TradingService(engine, settings), caller_for(engine, user_id))
    except AssistantError as exc:
        print(json.dumps({"error": exc.body().model_dump()}))
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    if isinstance(out, list):
        print(json.dumps([item.model_dump(mode="json") for item in out], indent=2))
    else:
        assert isinstance(out, BaseModel)
        print(out.model_dump_json(indent=2))


@trading_app.command("portfolio")
def portfolio(
    user_id: UserId = None,
    account_id: Annotated[int | None, typer.Option(help="Only this account.")] = None,
) -> None:
    """Accounts, positions, buying power and profit (FIFO realised, unrealised) as JSON."""
    _run(user_id, lambda service, caller: service.portfolio(caller, account_id))


@trading_app.command("orders")
def orders(
    user_id: UserId = None,
    working: Annotated[bool, typer.Option(help="Only open and partially filled orders.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
) -> None:
    """Orders, newest first, as JSON (staff and the operator see every customer's)."""
    _run(user_id, lambda service, caller: service.list_orders(caller, working, limit))


@trading_app.command("preview")
def preview(
    symbol: Annotated[str, typer.Argument(help="Ticker, e.g. AAPL or BTCUSD.")],
    side: Annotated[str, typer.Argument(help="buy or sell.")],
    user_id: Annotated[int, typer.Option(help="The customer the order would be for.")],
    quantity: Annotated[float | None, typer.Option(help="Units (or give --notional).")] = None,
    notional: Annotated[float | None, typer.Option(help="Money to trade.")] = None,
    order_type: Annotated[str, typer.Option(help="market, limit or stop.")] = "market",
    limit_price: Annotated[float | None, typer.Option()] = None,
    stop_price: Annotated[float | None, typer.Option()] = None,
    account_id: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Every pre-trade check of an order, and its estimated price and fees; nothing is written."""
    from pydantic import ValidationError

    from services.trading import OrderRequest

    try:
        request = OrderRequest(
            account_id=account_id,
            symbol=symbol,
            side=side,
            order_type=order_type,
            quantity=quantity,
            notional=notional,
            limit_price=limit_price,
            stop_price=stop_price,
        )
    except ValidationError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    _run(user_id, lambda service, caller: service.preview_order(caller, request))


def bench_order_turn(
    turns: Annotated[int, typer.Option(min=1, help="Timed turns per model, after a warm-up.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """How long a chat turn that ends in a confirmed order takes with the local model (the
    request read into a `place_order` call, previewed, confirmed, filled), beside the same
    turns with a model that answers at once; exit 1 unless every turn filled its order."""
    from contextlib import contextmanager

    from rich.table import Table

    from cli.main import _settings
    from evals.bench_order_turn import run
    from services.llm.local import LocalModel

    @contextmanager
    def local_model(settings):  # noqa: ANN001, ANN202 - Settings -> (chat model, description)
        local = LocalModel(settings)
        try:
            yield local.start(), local.description
        finally:
            local.close()

    report = run(_settings(), local_model, turns)
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        table = Table("model", "turns", "ask p50 ms", "confirm p50 ms", "turn p50 ms", "max ms")
        for label, timing in ((report.model, report.with_model), ("scripted", report.scripted)):
            table.add_row(
                label,
                str(timing.turns),
                f"{timing.ask_p50_ms:,.0f}",
                f"{timing.confirm_p50_ms:,.0f}",
                f"{timing.total_p50_ms:,.0f}",
                f"{timing.total_max_ms:,.0f}",
            )
        out = Console()
        out.print(table)
        out.print(
            f"{report.request!r}: a confirmed order takes {report.ratio:g}x the platform's own "
            f"time with the model; {report.orders_placed} orders placed"
        )
    raise typer.Exit(0 if report.correct else 1)
