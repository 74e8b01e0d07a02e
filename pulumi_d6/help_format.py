"""Command help that reads whole in a terminal, a pipe and a CI log alike.

Typer's rich help has two habits that hurt off a terminal. With no terminal to measure (a pipe,
a CI log) it renders at 80 columns, and its option table cuts what does not fit with an
ellipsis (``--v2-state-metho…``, ``[default: unmanaged_active,revoked,misma…``); and it gives
every option a type placeholder, flags included (``--version <bool>``), as if they took a value
(typer's ``TyperOption.display_type_rich`` returns the metavar, else the type, whatever the
option). These command classes render help at :data:`PIPED_WIDTH` columns when stdout is not a
terminal and neither ``COLUMNS`` nor typer's ``TERMINAL_WIDTH`` says otherwise, and give flags
an empty metavar. :class:`TableConsole` gives the CLI's tables (``clients``, ``drift``,
``check-preview``) the same width rule, :func:`piped_width`. No Pulumi imports; no d6 imports
(the emulator's CLI uses it too).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console, ConsoleDimensions
from typer.core import TyperCommand, TyperGroup, TyperOption

PIPED_WIDTH = 120
"""Wide enough for every option table of ``pulumi-d6`` without an ellipsis; a log viewer
wraps long lines itself, and cut ones cannot be read back."""
WIDTH_VARIABLES = ("COLUMNS", "TERMINAL_WIDTH")


@contextmanager
def readable(command: TyperCommand | TyperGroup, ctx: Any) -> Iterator[None]:
    """Flags without a placeholder, and a wider page when nothing measures one."""
    for param in command.get_params(ctx):
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""  # what rich help prints as the flag's "type"
    from typer import rich_utils  # typer's own setting for the help width (TERMINAL_WIDTH)

    width = piped_width(_is_terminal())
    if width is None or rich_utils.MAX_WIDTH is not None:
        yield
        return
    rich_utils.MAX_WIDTH = width
    try:
        yield
    finally:
        rich_utils.MAX_WIDTH = None


def piped_width(is_terminal: bool) -> int | None:
    """The one width rule of help and tables: off a terminal, :data:`PIPED_WIDTH` columns unless
    ``COLUMNS`` or typer's ``TERMINAL_WIDTH`` says otherwise (then ``None``: theirs holds)."""
    if is_terminal or any(os.environ.get(name, "").strip() for name in WIDTH_VARIABLES):
        return None
    return PIPED_WIDTH


class TableConsole(Console):
    """A rich console whose tables follow :func:`piped_width`: rich alone measures 80 columns
    in a pipe and wraps school names. ``TERMINAL_WIDTH``, which rich does not read, is its
    width as it is typer's."""

    @property
    def size(self) -> ConsoleDimensions:
        measured = super().size
        if self.is_terminal:
            return measured
        width = piped_width(False) or _terminal_width_variable() or measured.width
        return ConsoleDimensions(width, measured.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


def _terminal_width_variable() -> int | None:
    value = os.environ.get("TERMINAL_WIDTH", "").strip()
    return int(value) if value.isdigit() and not os.environ.get("COLUMNS", "").strip() else None


def _is_terminal() -> bool:
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty())


class ReadableCommand(TyperCommand):
    """A command whose help reads whole off a terminal (see the module)."""

    # ctx and formatter are typer's vendored click types; Any keeps the override compatible.
    def format_help(self, ctx: Any, formatter: Any) -> None:
        with readable(self, ctx):
            super().format_help(ctx, formatter)


class ReadableGroup(TyperGroup):
    """A group (the root app, the emulator) whose help reads whole off a terminal."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        with readable(self, ctx):
            super().format_help(ctx, formatter)
