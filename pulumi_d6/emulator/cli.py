"""``pulumi-d6 emulator``: run the local d6 emulator in the foreground until Ctrl-C.

A Typer sub-app (as fastapi-cli attaches optional sub-CLIs), so the main CLI imports FastAPI and
uvicorn only when this command runs. ``BANNER`` starts the first line it prints; tools that start
the emulator as a subprocess read the base URL from it (``pulumi_d6.testing.processes``).
"""

from __future__ import annotations

import errno
import signal
import sqlite3
from pathlib import Path
from typing import Annotated

import typer

from ..exits import EXIT_USAGE
from ..help_format import ReadableGroup
from .credentials import (
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    PASSWORD_VARIABLE,
    USERNAME_VARIABLE,
    announcement,
    credential_problem,
    source_of,
)
from .store import MAX_SEED

BANNER = "d6 emulator listening on "

app: typer.Typer = typer.Typer(
    cls=ReadableGroup, add_completion=False, pretty_exceptions_enable=False, subcommand_metavar=""
)


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@app.callback(invoke_without_command=True)
def emulator(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).")] = 8787,
    db: Annotated[
        str,
        typer.Option(help="SQLite file for the state (kept across restarts), or :memory:."),
    ] = ".emulator/d6.db",
    seed: Annotated[
        int,
        typer.Option(
            min=0,
            max=MAX_SEED,
            help="Make sure schools 1000 .. 1000+N-1 exist, authorised for 8 and 9: on a "
            "database that already holds state, only what is missing is added (a restart with "
            "a smaller N keeps the rest; --reset starts over).",
        ),
    ] = 0,
    reset: Annotated[
        bool,
        typer.Option(
            "--reset", help="Start fresh: forget the state in --db first (then apply --seed)."
        ),
    ] = False,
    username: Annotated[
        str, typer.Option(envvar=USERNAME_VARIABLE, help="Integrator username it accepts.")
    ] = DEFAULT_USERNAME,
    password: Annotated[
        str,
        typer.Option(
            envvar=PASSWORD_VARIABLE,
            help="Integrator password it accepts. Prefer the variable: flags show in the "
            "process list.",
        ),
    ] = DEFAULT_PASSWORD,
    page_size: Annotated[int, typer.Option(min=1, help="Default page size (meta.limit).")] = 10,
    max_page_size: Annotated[
        int, typer.Option(min=1, help="Largest page allowed (meta.max_allowed_limit).")
    ] = 50,
    rate_limit: Annotated[
        float | None, typer.Option(min=0.001, help="Requests/second before 429 with Retry-After.")
    ] = None,
    latency_ms: Annotated[
        float,
        typer.Option(min=0, help="Delay every answer by this many ms, as a WAN round trip."),
    ] = 0,
    v2_state_methods: Annotated[
        str, typer.Option(help="Methods v2 change-state accepts (others get 405).")
    ] = "PATCH,POST",
    api_versions: Annotated[
        str, typer.Option(help="API versions served; others answer 404 route_not_found.")
    ] = "v1,v2",
    access_log: Annotated[bool, typer.Option(help="Log each request line.")] = False,
) -> None:
    """Run the local d6 emulator until Ctrl-C."""
    try:
        from . import EmulatorConfig, EmulatorServer
    except ImportError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    username_source = source_of(ctx, "username", USERNAME_VARIABLE)
    password_source = source_of(ctx, "password", PASSWORD_VARIABLE)
    for problem in (
        credential_problem(username, username_source, "username"),
        credential_problem(password, password_source, "password"),
    ):
        if problem:
            typer.echo(f"error: {problem}", err=True)
            raise typer.Exit(EXIT_USAGE)
    try:
        config = EmulatorConfig(
            username=username,
            password=password,
            page_size=page_size,
            max_page_size=max_page_size,
            rate_limit=rate_limit,
            latency_ms=latency_ms,
            v2_state_methods=frozenset(m.upper() for m in _csv(v2_state_methods)),
            api_versions=frozenset(v.lower() for v in _csv(api_versions)),
        )
        if db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        server = EmulatorServer(
            config,
            host=host,
            port=port,
            db=db,
            seed=seed,
            reset=reset,
            log_level="info",
            access_log=access_log,
        )
    except OSError as exc:
        message = (
            f"port {port} on {host} is already in use: stop what holds it (a `pulumi-d6 "
            "emulator` started earlier? Ctrl-C it, or `fuser -k "
            f"{port}/tcp`), or pick another port with --port"
            if exc.errno == errno.EADDRINUSE
            else f"cannot start the emulator: {exc}"
        )
    except sqlite3.Error as exc:
        message = f"--db {db}: not usable as the emulator's SQLite database ({exc})"
    except ValueError as exc:
        message = str(exc)
    else:
        message = ""
    if message:
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(EXIT_USAGE)
    # A KeyboardInterrupt raised where Python ignores exceptions (a weakref callback, say) is
    # lost and the server would run on: until uvicorn takes over, a signal only asks it to stop.
    signal.signal(signal.SIGINT, server.request_stop)
    typer.echo(f"{BANNER}{server.base_url}")
    typer.echo(f"admin API on {server.admin_url} (state in {db}; Ctrl-C stops)")
    typer.echo(announcement(username, username_source, password_source))
    server.serve_forever()
