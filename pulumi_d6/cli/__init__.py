"""The ``pulumi-d6`` command line: one typer app, one module per group of commands.

``integrations`` (clients, codegen, activate, deactivate), ``init`` (a new infrastructure repo),
``drift`` (what d6 has that the code does not), ``check-preview`` (the deactivations a
``pulumi preview --json`` plans), and the emulator as a sub-app. Shared options,
the client and the exit codes are in ``common``.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, NoReturn

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


EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE, what ``git log | head -1`` and ``yes | head -1`` give: the reader stopped
reading. Not 0: for ``drift --exit-code`` 0 means "nothing to act on", which output nobody
read cannot claim (a ``set -o pipefail`` script then sees 141); and not 1, which is "action
needed"."""


def main() -> None:
    """The entry point: the app, with a reader that closed the pipe early made a quiet exit."""
    configure_from_env()
    stdout, descriptor = sys.stdout, _identity(1)
    try:
        app()
    except BrokenPipeError:  # a write outside typer's own handling (the final flush)
        _quiet_broken_pipe()
    except SystemExit:
        # On EPIPE typer (like click) swaps sys.stdout for a wrapper that swallows the flush,
        # and rich (help) points descriptor 1 at /dev/null; both then exit 1, the code of
        # "action needed", so that exit is replaced here.
        if sys.stdout is not stdout or _identity(1) != descriptor:
            _quiet_broken_pipe()
        raise


def _identity(descriptor: int) -> tuple[int, int] | None:
    """What a file descriptor points at (device, inode), to notice it being redirected."""
    try:
        found = os.fstat(descriptor)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def _quiet_broken_pipe() -> NoReturn:
    """Exit with :data:`EXIT_BROKEN_PIPE`, with stdout pointed at /dev/null so the interpreter's
    own flush at exit finds no closed pipe to complain about (Python's documented recipe)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.__stdout__.fileno() if sys.__stdout__ else 1)
    os.close(devnull)
    raise SystemExit(EXIT_BROKEN_PIPE)


__all__ = [
    "EXIT_API",
    "EXIT_BROKEN_PIPE",
    "EXIT_CREDENTIALS",
    "EXIT_DRIFT",
    "EXIT_NOT_AUTHORISED",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "EXIT_VALIDATION",
    "app",
    "main",
]
