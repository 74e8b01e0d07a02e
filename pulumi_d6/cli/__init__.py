"""The ``pulumi-d6`` command line: one typer app, one module per group of commands.

``integrations`` (clients, codegen, activate, deactivate), ``init`` (a new infrastructure repo),
``drift`` (what d6 has that the code does not), ``check-preview`` (the deactivations a
``pulumi preview --json`` plans), and the emulator as a sub-app. Shared options,
the client and the exit codes are in ``common``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from .._version import __version__
from ..emulator.cli import app as emulator_app
from ..help_format import ReadableCommand, ReadableGroup
from ..logs import configure_from_env
from . import drift, init, integrations, preview
from .common import (
    EXIT_API,
    EXIT_CREDENTIALS,
    EXIT_DRIFT,
    EXIT_NOT_AUTHORISED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    EXIT_VALIDATION,
)

app: typer.Typer = typer.Typer(
    name="pulumi-d6",
    cls=ReadableGroup,
    help="Inspect and manage d6+ SAMS client integrations, and run a local d6 emulator.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(show: bool) -> None:
    if show:
        typer.echo(f"pulumi-d6 {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """pulumi-d6: the d6+ SAMS Integrate provider's companion CLI."""


app.command(cls=ReadableCommand)(integrations.clients)
app.command(cls=ReadableCommand)(integrations.codegen)
app.command(cls=ReadableCommand)(integrations.activate)
app.command(cls=ReadableCommand)(integrations.deactivate)
app.command("init", cls=ReadableCommand)(init.init)
app.command(cls=ReadableCommand)(drift.drift)
app.command("check-preview", cls=ReadableCommand)(preview.check_preview)
app.add_typer(emulator_app, name="emulator", help="Run the local d6 emulator until Ctrl-C.")


def main() -> None:
    configure_from_env()
    app()


__all__ = [
    "EXIT_API",
    "EXIT_CREDENTIALS",
    "EXIT_DRIFT",
    "EXIT_NOT_AUTHORISED",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "EXIT_VALIDATION",
    "app",
    "main",
]
