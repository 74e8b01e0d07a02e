"""``clients``, ``codegen``, ``activate`` and ``deactivate``: integrations as d6 has them now."""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from ..codegen import render_python, render_yaml
from ..errors import NotAuthorisedError, not_authorised_message, printable
from ..stackfile import load_config, merge_integrations, project_name
from .common import (
    EXIT_NOT_AUTHORISED,
    ApiVersion,
    BaseUrl,
    Password,
    SchoolArg,
    SchoolFilter,
    TypeArg,
    TypeFilter,
    Username,
    errors_to_exit_codes,
    fail,
    fetch,
    flowing_help,
    make_client,
    out,
    stack_file_project,
)


class CodegenFormat(str, Enum):
    python = "python"
    yaml = "yaml"


def clients(
    school_id: SchoolFilter = None,
    api_type_id: TypeFilter = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    base_url: BaseUrl = None,
    username: Username = None,
    password: Password = None,
    api_version: ApiVersion = None,
) -> None:
    """List every integration schools have authorised you for (all pages)."""
    with errors_to_exit_codes():
        client = make_client(base_url, username, password, api_version)
        items = fetch(client, school_id, api_type_id)
    if as_json:
        typer.echo(json.dumps([i.model_dump() for i in items], indent=2))
        return
    table = Table(title=f"{len(items)} authorised client integration(s)")
    for column in ("school", "name", "API type", "active", "email", "telephone"):
        table.add_column(column)
    for i in items:
        cells = (
            str(i.school_id),
            i.school_name,
            f"{i.api_type_id} {i.api_type}".strip(),
            "yes" if i.active else "no",
            i.admin_email_address,
            f"+{i.telephone_calling_code} {i.telephone_number}".strip(" +"),
        )
        # What d6 sends is shown as plain text: neither rich markup nor terminal escapes.
        table.add_row(*(Text(printable(cell)) for cell in cells))
    out.print(table)


@flowing_help
def codegen(
    fmt: Annotated[
        CodegenFormat, typer.Option("--format", help="python: a program; yaml: stack config.")
    ] = CodegenFormat.yaml,
    write: Annotated[
        Path | None,
        typer.Option(
            "--write",
            help="Merge the active integrations into this stack file (Pulumi.<stack>.yaml), "
            "keeping every other key and comment.",
            dir_okay=False,
        ),
    ] = None,
    project: Annotated[
        str | None,
        typer.Option(
            help="The root program's project name (default: from Pulumi.yaml beside the stack "
            "file, or in this folder; without one, the one project the stack file's keys name; "
            "else d6-integrations).",
            show_default=False,
        ),
    ] = None,
    api_type_id: TypeFilter = None,
    base_url: BaseUrl = None,
    username: Username = None,
    password: Password = None,
    api_version: ApiVersion = None,
) -> None:
    """Declarations for every active integration, to bring them under management.

    `pulumi import` cannot work for dynamic providers; declaring what is already active and
    running `pulumi up` adopts it instead, with no change in d6. Without --write, YAML is printed
    ready to paste under the `config:` block of the stack file.
    """
    with errors_to_exit_codes():
        namespace = project or _project(write)
        client = make_client(base_url, username, password, api_version)
        active = [i for i in fetch(client, None, api_type_id) if i.active]
        if write is not None:
            added, kept = merge_integrations(write, namespace, active)
    if write is not None:
        out.print(f"{write}: {added} integration(s) added, {kept} already declared kept")
        return
    if fmt is CodegenFormat.python:
        typer.echo(render_python(active))
    else:
        typer.echo(render_yaml(active, namespace))


def _project(write: Path | None) -> str:
    """From Pulumi.yaml beside the stack file (or here); a lone stack file's own keys."""
    if write is None or not write.exists():
        return project_name(write.parent if write else Path.cwd())
    return stack_file_project(write, load_config(write))


def _change(
    school_id: int,
    api_type_id: int,
    active: bool,
    base_url: str | None,
    username: str | None,
    password: str | None,
    api_version: str | None,
) -> None:
    command = "activate" if active else "deactivate"
    with errors_to_exit_codes():
        client = make_client(base_url, username, password, api_version)
        try:
            result = client.set_state(school_id, api_type_id, active)
        except NotAuthorisedError as exc:
            # d6 says only "Client has not authorised access": name who, for what, and the fix.
            retry = f"pulumi-d6 {command} {school_id} {api_type_id}"
            said = not_authorised_message(school_id, api_type_id, retry, exc.message)
            fail(EXIT_NOT_AUTHORISED, f"{said} Your credentials are fine.")
    verb = f"{command}d"
    if result.changed:
        out.print(f"{school_id}/{api_type_id}: {verb}")
    else:
        out.print(f"{school_id}/{api_type_id}: already {verb}, nothing changed")


def _state_command(name: str, active: bool, doc: str) -> Callable[..., None]:
    """``activate`` and ``deactivate``: one signature, two commands (typer names a command after
    its function)."""

    def command(
        school_id: SchoolArg,
        api_type_id: TypeArg,
        base_url: BaseUrl = None,
        username: Username = None,
        password: Password = None,
        api_version: ApiVersion = None,
    ) -> None:
        _change(school_id, api_type_id, active, base_url, username, password, api_version)

    command.__name__ = command.__qualname__ = name
    command.__doc__ = doc
    return command


activate = _state_command(
    "activate", True, "Activate one integration now (a one-off; use the provider to keep it)."
)
deactivate = _state_command("deactivate", False, "Deactivate one integration now (a one-off).")
