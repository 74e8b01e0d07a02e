"""``pulumi-d6 init DIR``: from nothing to a managed estate in one command."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from .. import pins
from ..declarations import ProgramConfigError, parse_api_types
from ..errors import MissingCredentialsError, shown
from ..scaffold import (
    DEFAULT_STACK,
    Existing,
    RepoSpec,
    ScaffoldError,
    Written,
    config_keys,
    default_project,
    render,
    stack_file_name,
    write,
)
from ..settings import (
    DEFAULT_MAX_DEACTIVATIONS,
    D6Settings,
    parse_max_deactivations,
    resolve_settings,
)
from .common import (
    FLAG_NAMES,
    ApiVersion,
    Password,
    Username,
    err,
    errors_to_exit_codes,
    fetch,
    make_client,
    out,
)

_STAND_IN = "not-used"  # fills the password's place when no request is made (no --adopt)


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
    exclusive_api_types: Annotated[
        str | None,
        typer.Option(
            help="API type ids, comma-separated (e.g. 8): exclusive mode, every integration of "
            "these types that is not declared is kept inactive (exclusiveApiTypes, with an empty "
            "exclusiveIgnore).",
            show_default=False,
        ),
    ] = None,
    max_deactivations: Annotated[
        str, typer.Option(help="d6:maxDeactivations for the stack (a number, or unlimited).")
    ] = str(DEFAULT_MAX_DEACTIVATIONS),
    requirement: Annotated[
        str | None,
        typer.Option(
            help="Where CI installs pulumi-d6 from, as a requirements.txt line (e.g. 'pulumi-d6 "
            "@ git+https://github.com/<owner>/pulumi-d6.git@<commit>', with real values in "
            "place of <owner> and <commit>). Default: the source this copy was installed from.",
            show_default=False,
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            help="d6:baseUrl to write into the stack file (D6_BASE_URL is used for --adopt "
            "but never written).",
            show_default=False,
        ),
    ] = None,
    skip_existing: Annotated[
        bool,
        typer.Option(
            "--skip-existing",
            help="Write only the files that are missing (e.g. a repository created on GitHub "
            "with a README and a .gitignore).",
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite files that already exist.")
    ] = False,
    username: Username = None,
    password: Password = None,
    api_version: ApiVersion = None,
) -> None:
    """Write a ready infrastructure repository for your d6 integrations.

    Pulumi project, root program, stack file, requirements, a test of the program and the CI
    workflow. Never writes a password, nor any value from the environment but D6_USERNAME.
    """
    with errors_to_exit_codes():
        if skip_existing and force:
            raise ScaffoldError("--skip-existing and --force cannot be used together")
        pin = pins.from_option(requirement) if requirement is not None else pins.installed()
        flags = {"base_url": base_url, "username": username, "api_version": api_version}
        given = {k: v for k, v in flags.items() if v is not None}
        adopted = None
        user: str | None
        if adopt:
            client = make_client(base_url, username, password, api_version)
            adopted = [i for i in fetch(client, None, None) if i.active]
            settings, user = client.settings, client.settings.username
        else:
            settings, user = _settings_without_password(given)
        spec = RepoSpec(
            project=project or default_project(directory),
            pin=pin,
            stack=stack,
            username=user,
            username_source=settings.source_of("username"),
            base_url=settings.base_url if base_url is not None else None,
            api_version=settings.api_version if api_version is not None else None,
            max_deactivations=_checked_budget(max_deactivations),
            adopted=adopted,
            activate_all_authorised=_api_types(
                activate_all_authorised, "--activate-all-authorised", "activateAllAuthorised"
            ),
            exclusive_api_types=_api_types(
                exclusive_api_types, "--exclusive-api-types", "exclusiveApiTypes"
            ),
        )
        existing = (
            Existing.SKIP if skip_existing else Existing.OVERWRITE if force else Existing.REFUSE
        )
        if requirement is not None and existing is Existing.SKIP:
            _refuse_a_requirement_kept_out(directory / "requirements.txt", pin)
        done = write(directory, render(spec), existing)
    folder = directory.resolve().name
    if project is None and spec.project != folder:
        err.print(
            f"[yellow]warning:[/yellow] the folder name {escape(shown(folder))} is not a valid "
            f"Pulumi project name (letters, digits, _ . -), so the project is {spec.project}; "
            "init again with --project NAME --force to choose another",
            soft_wrap=True,
        )
    _report(directory, spec, done)


def _settings_without_password(given: dict[str, str]) -> tuple[D6Settings, str | None]:
    """The flags and ``D6_*`` resolved as a client's are (a bad value is refused the same way),
    and the username, None when neither --username nor D6_USERNAME gives one. No request is
    made, so stand-ins fill the credentials' place."""
    stand_ins = {"password": _STAND_IN}
    try:
        settings = resolve_settings(
            {**stand_ins, **given}, env=os.environ, explicit_names=FLAG_NAMES
        )
    except MissingCredentialsError:
        stand_ins["username"] = _STAND_IN
        settings = resolve_settings(
            {**stand_ins, **given}, env=os.environ, explicit_names=FLAG_NAMES
        )
        return settings, None
    return settings, settings.username


def _refuse_a_requirement_kept_out(path: Path, pin: pins.Pin) -> None:
    """``--requirement`` with ``--skip-existing`` and a requirements.txt already there: the flag
    would be ignored, so nothing is written unless the file already has that line."""
    if not path.exists() or pins.already_has(path.read_text(encoding="utf-8"), pin):
        return
    raise ScaffoldError(
        f"--requirement was given, but {path} already exists and --skip-existing keeps it; "
        f"nothing was written. Edit its pulumi-d6 line to read '{pin.line}', then run init "
        "again without --requirement (or remove requirements.txt first). "
        "--force would rewrite every file, your Pulumi stack file included."
    )


def _report(directory: Path, spec: RepoSpec, done: Written) -> None:
    """Every file and every config key written, and what the user must do next."""
    if done.written:
        out.print(f"Wrote {len(done.written)} file(s) to {directory}:")
    else:
        out.print(f"Wrote no file to {directory}.")
    for name in done.written:
        out.print(f"  {name}")
    for name, lines in done.appended.items():
        out.print(f"Added {len(lines)} line(s) to the existing {name}: {', '.join(lines)}")
    if done.kept:
        out.print(f"Kept {len(done.kept)} existing file(s) as they are: {', '.join(done.kept)}")
    stack_file = stack_file_name(spec.stack)
    if stack_file in done.written:
        out.print(f"Config keys written to {stack_file}:")
        for key in config_keys(spec):
            out.print(f"  {key.key}: {key.summary}")
    if spec.pin.local:
        err.print(
            "[yellow]warning:[/yellow] requirements.txt installs pulumi-d6 from "
            f"{escape(spec.pin.why)}, which a CI runner cannot install; the workflow stops at "
            f"its install step until it can. {escape(pins.EDIT_ADVICE)}",
            soft_wrap=True,
        )
    if spec.pin.note:
        err.print(f"[yellow]warning:[/yellow] {escape(spec.pin.note)}", soft_wrap=True)
    if spec.exclusive_api_types and spec.adopted is None:
        err.print(f"[yellow]warning:[/yellow] {escape(_exclusive_warning(spec))}", soft_wrap=True)
    out.print("Next:")
    for line in _next_steps(directory, spec):
        out.print(f"  {line}", soft_wrap=True)


def _exclusive_warning(spec: RepoSpec) -> str:
    """Exclusive mode with nothing adopted: the first ``up`` ends every undeclared active
    integration of those types, which the user may not expect from a fresh repository."""
    types = ", ".join(map(str, spec.exclusive_api_types))
    return (
        f"exclusive mode without --adopt: the first `pulumi up` deactivates every integration "
        f"of API type(s) {types} that is active in d6 now and not declared in "
        f"{spec.project}:integrations (up to d6:maxDeactivations, {spec.max_deactivations}, "
        "per run). To keep them, run init with --adopt, or declare them now with "
        f"`pulumi-d6 codegen --write {stack_file_name(spec.stack)}`; "
        f"exceptions go in {spec.project}:exclusiveIgnore."
    )


def _next_steps(directory: Path, spec: RepoSpec) -> list[str]:
    """The commands from here to a first ``pulumi up``, for the folder as it now is."""
    install = "venv/bin/pip install -r requirements.txt"
    here = directory.resolve() == Path.cwd().resolve()
    steps = [
        *([] if here else [f"cd {directory}"]),
        install if (directory / "venv").is_dir() else f"python3 -m venv venv && {install}",
        "venv/bin/python -m pytest tests/test_program.py",
        f"pulumi stack select --create {spec.stack}",
    ]
    if not spec.username:
        steps.append("pulumi config set d6:username <your d6 username>")
    steps += ["pulumi config set --secret d6:password", "pulumi preview   # then: pulumi up"]
    return steps


def _checked_budget(value: str) -> str:
    try:
        parse_max_deactivations(value)
    except ValueError as exc:
        message = f"--max-deactivations {exc}"
    else:
        return value.strip().lower()
    raise ScaffoldError(message)


def _api_types(raw: str | None, flag: str, key: str) -> list[int]:
    """``--activate-all-authorised 8,9`` (or ``--exclusive-api-types``), checked by the root
    program's own parser for ``key`` (a repeat is refused, not dropped), so init never writes
    what the program would refuse."""
    if not raw:
        return []
    try:
        return parse_api_types([part.strip() for part in raw.split(",")], key)
    except ProgramConfigError as exc:
        message = f"{flag} {shown(raw)}: {exc}"
    raise ScaffoldError(message)
