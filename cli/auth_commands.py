"""`trading-assist token`, `apikey ...` and `user password`: credentials for the HTTP surface
and the chat UI."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from services.errors import AssistantError
from services.identity import Role

apikey_app = typer.Typer(help="API keys other systems call the API with.", no_args_is_help=True)
user_app = typer.Typer(help="Users' sign-in to the chat UI.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)


def _engine():
    from cli.main import _settings
    from services.db.engines import make_engine
    from services.db.migrate import require_schema

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        require_schema(engine)
    except AssistantError as exc:
        engine.dispose()
        _fail(exc.message)
    return settings, engine


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


def token(
    user_id: Annotated[int, typer.Option(help="The user the token acts for.")],
    role: Annotated[
        Role | None, typer.Option(help="Role to act with (default: the user's own).")
    ] = None,
    minutes: Annotated[int, typer.Option(min=1, max=7 * 24 * 60, help="Lifetime.")] = 60,
    scopes: Annotated[
        str | None, typer.Option(help="Comma-separated scopes (default: all the role may).")
    ] = None,
) -> None:
    """Print a development bearer token (RS256, signed by a key kept in VAR_DIR/auth). The
    server accepts it in AUTH_MODE=local only."""
    from services.auth import dev_tokens
    from services.auth.api_keys import parse_scopes
    from services.settings import AuthMode
    from services.users import caller_for

    settings, engine = _engine()
    try:
        own = caller_for(engine, user_id)
        granted = parse_scopes(scopes) if scopes is not None else None
    except AssistantError as exc:
        _fail(exc.message)
    finally:
        engine.dispose()
    if settings.auth_mode != AuthMode.LOCAL:
        console.print("[yellow]note:[/yellow] AUTH_MODE is not local: the server will refuse it")
    print(dev_tokens.mint(settings.var_dir, user_id, role or own.role, minutes, granted))


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Option(help="Who will use it, e.g. crm-sync (unique).")],
    scopes: Annotated[str, typer.Option(help="Comma-separated, e.g. tools:read,tools:write.")],
    role: Annotated[Role, typer.Option(help="Role it acts with.")] = Role.SERVICE,
    user_id: Annotated[
        int | None, typer.Option(help="User it acts for (required for customer and support).")
    ] = None,
) -> None:
    """Create a key and print it once: it is stored hashed and cannot be shown again."""
    from services.auth import api_keys

    _, engine = _engine()
    try:
        created = api_keys.create(engine, name, role, api_keys.parse_scopes(scopes), user_id)
    except AssistantError as exc:
        _fail(exc.message)
    finally:
        engine.dispose()
    console.print(f"key {created.info.name} created; it is shown once, keep it now:")
    print(created.key)


@apikey_app.command("list")
def apikey_list() -> None:
    """The keys, their scopes and last use (never the keys themselves)."""
    from services.auth import api_keys

    _, engine = _engine()
    try:
        keys = api_keys.list_keys(engine)
    finally:
        engine.dispose()
    table = Table("name", "prefix", "role", "scopes", "user", "created", "last used", "revoked")
    for key in keys:
        table.add_row(
            key.name,
            key.prefix + "...",
            key.role.value,
            ",".join(key.scopes),
            "" if key.user_id is None else str(key.user_id),
            f"{key.created_at:%Y-%m-%d %H:%M}",
            f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never",
            f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "",
        )
    Console(width=160).print(table)


@apikey_app.command("revoke")
def apikey_revoke(name: Annotated[str, typer.Argument(help="The key's name.")]) -> None:
    """Refuse the key from now on (it stays listed, with when it was revoked)."""
    from services.auth import api_keys

    _, engine = _engine()
    try:
        info = api_keys.revoke(engine, name)
    except AssistantError as exc:
        _fail(exc.message)
    finally:
        engine.dispose()
    console.print(f"key {info.name} revoked at {info.revoked_at:%Y-%m-%d %H:%M:%S} UTC")


def bench_auth(
    requests: Annotated[int, typer.Option(min=10, help="Timed calls per kind.")] = 500,
    redis_url: Annotated[
        str | None, typer.Option(help="Also time a rate-limit hit in this Redis.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """What identity costs a request, per credential kind, and one rate-limit hit; exit 1
    when a kind's median is over the 5 ms budget."""
    from evals.bench_auth import run

    report = run(requests, redis_url)
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        table = Table("part", "p50 ms", "p95 ms", "max ms", title=f"{requests} calls each")
        for name, lat in {
            **report.kinds,
            **{f"rate limit ({k})": v for k, v in report.rate_limit.items()},
        }.items():
            table.add_row(name, f"{lat.p50_ms:.3f}", f"{lat.p95_ms:.3f}", f"{lat.max_ms:.3f}")
        Console().print(table)
    raise typer.Exit(0 if report.within_budget else 1)


@user_app.command("password")
def user_password(
    user_id: Annotated[int, typer.Option(help="The user whose password is set.")],
    generate: Annotated[
        bool, typer.Option("--generate", help="Make a random password and print it once.")
    ] = False,
) -> None:
    """Set a user's password for the chat UI's sign-in (AUTH_MODE=local). Typed at a hidden
    prompt (twice), or read as one line from standard input when it is not a terminal; stored
    as a scrypt hash."""
    from services.auth import passwords

    if generate:
        password = passwords.generate()
    elif sys.stdin.isatty():
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    _, engine = _engine()
    try:
        passwords.set_password(engine, user_id, password)
    except AssistantError as exc:
        _fail(exc.message)
    finally:
        engine.dispose()
    console.print(f"password of user {user_id} set")
    if generate:
        console.print("it is shown once, keep it now:")
        print(password)
