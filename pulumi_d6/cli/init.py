"""``pulumi-d6 init DIR``: from nothing to a managed estate in one command."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from ..models import parse_id
from ..scaffold import DEFAULT_STACK, RepoSpec, ScaffoldError, default_project, render, write
from ..settings import (
    DEFAULT_MAX_DEACTIVATIONS,
    D6Settings,
    parse_max_deactivations,
    resolve_settings,
)
from .common import (
    FLAG_NAMES,
    ApiVersion,
    BaseUrl,
    Password,
    Username,
    errors_to_exit_codes,
    fetch,
    make_client,
    out,
)


def init(
    directory: Annotated[
        Path, typer.Argument(help="Folder of the new repository (created if missing).")
    ],
    project: Annotated[
        str | None,
        typer.Option(help="Pulumi project name (default: the folder's name).", show_default=False),
    ] = None,
    stack: Annotated[str, typer.Option(help="Stack to configure.")] = DEFAULT_STACK,
    adopt: Annotated[
        bool,
        typer.Option(
            "--adopt",
            help="Declare what is active in d6 today, so the first `pulumi up` changes nothing "
            "there (needs the d6 credentials).",
        ),
    ] = False,
    activate_all_authorised: Annotated[
        str | None,
        typer.Option(
            help="API type ids, comma-separated (e.g. 8,9): every school that authorised one is "
            "activated.",
            show_default=False,
        ),
    ] = None,
    max_deactivations: Annotated[
        str, typer.Option(help="d6:maxDeactivations for the stack (a number, or unlimited).")
    ] = str(DEFAULT_MAX_DEACTIVATIONS),
    force: Annotated[bool, typer.Option(help="Overwrite files that already exist.")] = False,
    base_url: BaseUrl = None,
    username: Username = None,
    password: Password = None,
    api_version: ApiVersion = None,
) -> None:
    """Write a ready infrastructure repository: Pulumi project, root program, stack config,
    requirements, CI workflow. Never writes a password."""
    with errors_to_exit_codes():
        adopted = None
        if adopt:
            client = make_client(base_url, username, password, api_version)
            adopted = [i for i in fetch(client, None, None) if i.active]
            connection = client.settings
        else:
            connection = _connection(base_url, api_version)
        spec = RepoSpec(
            project=project or default_project(directory),
            stack=stack,
            username=username or os.environ.get("D6_USERNAME") or None,
            base_url=connection.base_url,
            api_version=connection.api_version,
            max_deactivations=_checked_budget(max_deactivations),
            adopted=adopted,
            activate_all_authorised=_api_types(activate_all_authorised),
        )
        written = write(directory, render(spec), force=force)
    out.print(f"Wrote {len(written)} files to {directory}:")
    for path in sorted(written):
        out.print(f"  {path.relative_to(directory)}")
    if adopted is not None:
        out.print(f"Adopted {len(adopted)} active integration(s) into Pulumi.{stack}.yaml.")
    out.print("Next:")
    for line in (
        f"cd {directory}",
        "python -m venv venv && venv/bin/pip install -r requirements.txt",
        f"pulumi stack select --create {stack}",
        "pulumi config set --secret d6:password",
        "pulumi preview   # then: pulumi up",
    ):
        out.print(f"  {line}")


def _connection(base_url: str | None, api_version: str | None) -> D6Settings:
    """Base URL and API version resolved and checked as a client's are (flag, then ``D6_*``,
    then default). Credentials are not needed to write files, so stand-ins fill their place."""
    given = {k: v for k, v in (("base_url", base_url), ("api_version", api_version)) if v}
    stand_ins = {"username": "init", "password": "not-used"}
    return resolve_settings({**stand_ins, **given}, env=os.environ, explicit_names=FLAG_NAMES)


def _checked_budget(value: str) -> str:
    try:
        parse_max_deactivations(value)
    except ValueError as exc:
        message = f"--max-deactivations {exc}"
    else:
        return value.strip().lower()
    raise ScaffoldError(message)


def _api_types(raw: str | None) -> list[int]:
    if not raw:
        return []
    types: list[int] = []
    for part in raw.split(","):
        type_id = parse_id(part.strip(), "--activate-all-authorised", ScaffoldError)
        if type_id not in types:
            types.append(type_id)
    return types
