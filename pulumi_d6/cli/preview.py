"""``pulumi-d6 check-preview``: the pull-request gate on the deactivations a preview plans."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ..preview import (
    PreviewCheck,
    only_active_now,
    planned_deactivations,
    read_digest,
    resolve_limit,
)
from ..settings import stack_file_settings
from ..stackfile import load_config, read_text
from .common import (
    EXIT_DRIFT,
    ApiVersion,
    BaseUrl,
    Password,
    Username,
    errors_to_exit_codes,
    fetch,
    flowing_help,
    make_client,
    out,
)
from .drift import DriftFormat as PreviewFormat  # the same three formats

EXIT_OVER_LIMIT = EXIT_DRIFT  # 1: the same "someone must look" code
LIMIT_RULE = (
    "Without it: with --stack-config, the stack file's d6:maxDeactivations, else "
    "D6_MAX_DEACTIVATIONS, else 10 (the order pulumi up uses); without --stack-config, "
    "--max-deactivations is required (D6_MAX_DEACTIVATIONS alone is not read)."
)
"""Where the limit comes from, as ``preview.resolve_limit`` does it (README and
docs/CHECK_PREVIEW.md say the same)."""


@flowing_help
def check_preview(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE|-", help="The output of `pulumi preview --json` (- for stdin)."
        ),
    ],
    max_deactivations: Annotated[
        str | None,
        typer.Option(
            "--max-deactivations",
            metavar="N",
            help=f"Most deactivations allowed: a whole number >= 0, or unlimited. {LIMIT_RULE}",
            show_default=False,
        ),
    ] = None,
    stack_config: Annotated[
        Path | None,
        typer.Option(
            "--stack-config",
            help="The stack file (Pulumi.<stack>.yaml) whose d6:maxDeactivations is the limit.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    live: Annotated[
        bool,
        typer.Option(
            "--live",
            help="Count only integrations d6 shows as active now (one listing of d6).",
        ),
    ] = False,
    fmt: Annotated[PreviewFormat, typer.Option("--format", help="Output format.")] = (
        PreviewFormat.table
    ),
    base_url: BaseUrl = None,
    username: Username = None,
    password: Password = None,
    api_version: ApiVersion = None,
) -> None:
    """List the ClientIntegration deactivations a preview plans; exit 1 above the limit.

    Counted: deletes and replaces of active integrations that deactivate on destroy.

    Also counted: updates of active to false or to a value not known yet, creates with active false.

    Exit 0 within the limit, 1 above it, 2 for input that is not `pulumi preview --json` output
    or when no limit is given (neither --max-deactivations nor --stack-config).
    """
    with errors_to_exit_codes():
        config = load_config(stack_config) if stack_config is not None else None
        if config is not None:  # a misspelt d6:maxDeactivations would leave the default in force
            stack_file_settings(config, str(stack_config))
        limit = resolve_limit(max_deactivations, config, str(stack_config))
        where = "stdin" if file == "-" else file
        text = sys.stdin.read() if file == "-" else read_text(Path(file))
        planned = planned_deactivations(read_digest(text, where), where)
        if live and planned:
            client = make_client(
                base_url,
                username,
                password,
                api_version,
                stack_file=config or {},
                where=str(stack_config),
            )
            planned = only_active_now(planned, fetch(client, None, None))
    check = PreviewCheck(tuple(planned), limit, live_checked=live)
    if fmt is PreviewFormat.json:
        typer.echo(json.dumps(check.as_json(), indent=2))
    elif fmt is PreviewFormat.markdown:
        typer.echo(check.to_markdown(), nl=False)
    else:
        _print_table(check)
    if not check.within_limit:
        raise typer.Exit(EXIT_OVER_LIMIT)


def _print_table(check: PreviewCheck) -> None:
    out.print(escape(check.summary()))
    if not check.deactivations:
        return
    table = Table(title="Planned deactivations", title_justify="left")
    for column in ("resource", "school", "API type", "step", "why"):
        table.add_column(column)
    for item in check.deactivations:
        table.add_row(
            escape(item.name),
            "(unknown)" if item.school_id is None else str(item.school_id),
            "(unknown)" if item.api_type_id is None else str(item.api_type_id),
            item.op,
            escape(item.reason),
        )
    out.print(table)
