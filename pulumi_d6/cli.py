"""The ``pulumi-d6`` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    name="pulumi-d6",
    help="Manage and inspect d6+ SAMS client integrations, and run a local d6 emulator.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)

EXIT_USAGE = 2


@app.callback()
def _root() -> None:
    """pulumi-d6: the d6+ SAMS Integrate provider's companion CLI."""


@app.command()
def emulator(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).")] = 8787,
    db: Annotated[
        str, typer.Option(help="SQLite file for the state, or :memory:.")
    ] = ".emulator/d6.db",
    seed: Annotated[
        int,
        typer.Option(
            min=0,
            help="Create this many schools (ids from 1000), each authorised for API types 8 and 9.",
        ),
    ] = 0,
    username: Annotated[
        str, typer.Option(help="Integrator username the emulator accepts.")
    ] = "demo",
    password: Annotated[
        str, typer.Option(help="Integrator password the emulator accepts.", show_default=False)
    ] = "demo",  # noqa: S107 - the emulator's documented demo credential, not a real secret
    page_size: Annotated[int, typer.Option(min=1, help="Default page size (meta.limit).")] = 10,
    max_page_size: Annotated[
        int, typer.Option(min=1, help="Largest page a client may ask for (meta.max_allowed_limit).")
    ] = 50,
    rate_limit: Annotated[
        float | None,
        typer.Option(min=0.001, help="Requests per second before answering 429 with Retry-After."),
    ] = None,
    v2_state_methods: Annotated[
        str, typer.Option(help="Methods v2 change-state accepts (others get 405), e.g. POST.")
    ] = "PATCH,POST",
    api_versions: Annotated[
        str, typer.Option(help="API versions served; a missing one answers 404 route_not_found.")
    ] = "v1,v2",
    access_log: Annotated[bool, typer.Option(help="Log each request line.")] = False,
) -> None:
    """Run the local d6 emulator until Ctrl-C."""
    try:
        from .emulator import EmulatorConfig, EmulatorServer
    except ImportError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    try:
        config = EmulatorConfig(
            username=username,
            password=password,
            page_size=page_size,
            max_page_size=max_page_size,
            rate_limit=rate_limit,
            v2_state_methods=frozenset(
                m.strip().upper() for m in v2_state_methods.split(",") if m.strip()
            ),
            api_versions=frozenset(v.strip().lower() for v in api_versions.split(",") if v.strip()),
        )
        if db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        server = EmulatorServer(
            config, host=host, port=port, db=db, seed=seed, log_level="info", access_log=access_log
        )
    except (ValueError, OSError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    typer.echo(f"d6 emulator listening on {server.base_url}")
    typer.echo(f"admin API on {server.admin_url} (state in {db}; Ctrl-C stops)")
    server.serve_forever()


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
