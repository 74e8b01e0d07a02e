"""``pulumi-d6 drift``: what d6 has that the code does not, for people (a table), for CI (an
exit code and a job summary) and for tools (JSON)."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..drift import (
    CATEGORIES,
    TITLES,
    DriftReport,
    compare,
    from_stack_config,
    from_stack_export,
    read_stack_export,
    to_markdown,
)
from ..errors import SettingsError
from ..stackfile import load_config, project_name
from .common import (
    EXIT_DRIFT,
    EXIT_USAGE,
    ApiVersion,
    BaseUrl,
    Password,
    Username,
    errors_to_exit_codes,
    fail,
    fetch,
    make_client,
    out,
)


class DriftFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


def drift(
    stack_config: Annotated[
        Path | None,
        typer.Option(
            "--stack-config",
            help="A root-program stack file (Pulumi.<stack>.yaml): its integrations and "
            "activateAllAuthorised.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    state: Annotated[
        str | None,
        typer.Option(
            "--state",
            help="The JSON of `pulumi stack export` for any program (- for stdin).",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[DriftFormat, typer.Option("--format", help="Output format.")] = (
        DriftFormat.table
    ),
    exit_code: Annotated[
        bool,
        typer.Option("--exit-code", help="Exit 1 when anything is out of sync (0 when in sync)."),
    ] = False,
    project: Annotated[
        str | None,
        typer.Option(
            help="Project name of the stack file (default: from Pulumi.yaml beside it).",
            show_default=False,
        ),
    ] = None,
    base_url: BaseUrl = None,
    username: Username = None,
    password: Password = None,
    api_version: ApiVersion = None,
) -> None:
    """Compare what is declared with d6: onboarding, unmanaged active, revoked, mismatched.

    One full listing of d6 (every page, at its largest page size). With --stack-config, the
    file's plain d6:* settings are used too (a secure d6:password is not: set D6_PASSWORD).
    """
    if (stack_config is None) == (state is None):
        fail(EXIT_USAGE, "give one of --stack-config FILE or --state FILE (- for stdin)")
    with errors_to_exit_codes():
        if stack_config is not None:
            config = load_config(stack_config)
            namespace = project or project_name(stack_config.parent)
            client = make_client(
                base_url, username, password, api_version, config=_d6_settings(config)
            )
            live = fetch(client, None, None)
            declared = from_stack_config(config, namespace, live, str(stack_config))
        else:
            source = None if state == "-" else Path(str(state))
            export = read_stack_export(source, sys.stdin.read() if source is None else None)
            declared = from_stack_export(export, "stdin" if source is None else str(source))
            client = make_client(base_url, username, password, api_version)
            live = fetch(client, None, None)
        report = compare(declared, live)
    if fmt is DriftFormat.json:
        typer.echo(json.dumps(report.as_json(), indent=2))
    elif fmt is DriftFormat.markdown:
        typer.echo(to_markdown(report), nl=False)
    else:
        _print_tables(report)
    if exit_code and report.out_of_sync:
        raise typer.Exit(EXIT_DRIFT)


def _d6_settings(config: dict[str, Any]) -> dict[str, Any]:
    """The stack file's d6:* values that are plain text (a ``secure:`` one is a mapping)."""
    plain = {k: v for k, v in config.items() if k.startswith("d6:") and not isinstance(v, dict)}
    if any(isinstance(v, list) for v in plain.values()):
        raise SettingsError("d6:* settings in the stack file must be single values")
    return {k: str(v) if not isinstance(v, str) else v for k, v in plain.items()}


def _print_tables(report: DriftReport) -> None:
    out.print(report.summary())
    for name in CATEGORIES:
        rows = report.category(name)
        if not rows:
            continue
        table = Table(title=f"{TITLES[name]} ({len(rows)})", title_justify="left")
        for column in ("school", "name", "API type"):
            table.add_column(column)
        if name == "mismatched":
            table.add_column("declared")
            table.add_column("d6")
        for row in rows:
            cells = [
                str(row["school_id"]),
                row["school_name"] or "(unknown)",
                str(row["api_type_id"]),
            ]
            if name == "mismatched":
                cells += [
                    "active" if row["declared_active"] else "inactive",
                    "active" if row["live_active"] else "inactive",
                ]
            table.add_row(*cells)
        out.print(table)
