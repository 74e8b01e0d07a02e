"""``pulumi-d6 drift``: what d6 has that the code does not, for people (a table), for CI (an
exit code and a job summary) and for tools (JSON)."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from ..drift import (
    FAIL_ON_DEFAULT,
    DriftReport,
    compare,
    from_stack_config,
    from_stack_export,
    parse_fail_on,
    read_stack_export,
    sections,
    to_json,
    to_markdown,
)
from ..stackfile import load_config
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
    flowing_help,
    make_client,
    out,
    stack_file_project,
)


class DriftFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


@flowing_help
def drift(
    stack_config: Annotated[
        Path | None,
        typer.Option(
            "--stack-config",
            help="A root-program stack file (Pulumi.<stack>.yaml): its integrations, "
            "activateAllAuthorised and exclusive mode.",
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
        typer.Option(
            "--exit-code",
            help="Exit 1 when a category of --fail-on has entries (0 otherwise).",
        ),
    ] = False,
    fail_on: Annotated[
        str,
        typer.Option(
            "--fail-on",
            help="Categories --exit-code fails on, comma-separated, or all. The onboarding "
            "queue and exclusive_deactivate (the next up deactivates those) are reported but "
            "not failed on unless named.",
        ),
    ] = ",".join(FAIL_ON_DEFAULT),
    project: Annotated[
        str | None,
        typer.Option(
            help="Project name of the stack file (default: from Pulumi.yaml beside it; without "
            "one, the one project its keys name; else d6-integrations).",
            show_default=False,
        ),
    ] = None,
    base_url: BaseUrl = None,
    username: Username = None,
    password: Password = None,
    api_version: ApiVersion = None,
) -> None:
    """Compare what is declared with d6: unmanaged active, revoked, mismatched, exclusive
    deactivations, onboarding.

    One full listing of d6 (every page, at its largest page size). With --stack-config, the
    file's plain d6:* settings are used too (a secure d6:password is not: set D6_PASSWORD).
    """
    if stack_config is not None and state is not None:
        fail(EXIT_USAGE, "give only one of --stack-config FILE or --state FILE, not both")
    if stack_config is None and state is None:
        fail(EXIT_USAGE, "give one of --stack-config FILE or --state FILE (- for stdin)")
    with errors_to_exit_codes():
        failing_categories = parse_fail_on(fail_on)
        if stack_config is not None:
            config = load_config(stack_config)
            namespace = project or stack_file_project(stack_config, config)
            client = make_client(
                base_url,
                username,
                password,
                api_version,
                stack_file=config,
                where=str(stack_config),
            )
            live = fetch(client, None, None)
            declared, program = from_stack_config(config, namespace, live, str(stack_config))
        else:
            source = None if state == "-" else Path(str(state))
            export = read_stack_export(source, sys.stdin.read() if source is None else None)
            declared = from_stack_export(export, "stdin" if source is None else str(source))
            client = make_client(base_url, username, password, api_version)
            live = fetch(client, None, None)
            program = None  # a stack export does not say which types are exclusive
        report = compare(declared, live, program)
    if fmt is DriftFormat.json:
        typer.echo(to_json(report))
    elif fmt is DriftFormat.markdown:
        typer.echo(to_markdown(report), nl=False)
    else:
        _print_tables(report)
    if exit_code and report.failing(failing_categories):
        raise typer.Exit(EXIT_DRIFT)


def _print_tables(report: DriftReport) -> None:
    out.print(report.summary())
    for section in sections(report):
        table = Table(title=section.title, title_justify="left")
        for column in section.columns:
            table.add_column(column)
        for cells in section.rows:
            table.add_row(*map(Text, cells))  # plain text: a school's name is not rich markup
        out.print(table)
