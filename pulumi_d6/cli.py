"""The ``pulumi-d6`` command line: list, bring under management, one-off changes, emulator.

Each command is a thin shell over a module that does the work: ``client`` (``clients``,
``activate``, ``deactivate``), ``codegen`` and ``emulator.cli`` (a sub-app, loaded lazily).

Connection settings come from flags, then the ``D6_*`` environment (prefer ``D6_PASSWORD`` to
``--password``: flags are visible in the process list). Exit codes tell failures apart:

    0 ok · 2 usage or settings · 3 bad credentials · 4 school has not authorised ·
    5 validation failed · 6 d6 unreachable or timed out · 7 any other d6 error
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ._version import __version__
from .client import D6Client
from .codegen import render_python, render_yaml
from .emulator.cli import app as emulator_app
from .errors import (
    BadCredentialsError,
    BadRequestError,
    D6ConnectionError,
    D6Error,
    InvalidValueError,
    MissingCredentialsError,
    NotAuthorisedError,
    SettingsError,
)
from .logs import configure_from_env
from .models import ClientIntegrationInfo, parse_id
from .settings import resolve_settings

EXIT_USAGE = 2
EXIT_CREDENTIALS = 3
EXIT_NOT_AUTHORISED = 4
EXIT_VALIDATION = 5
EXIT_UNREACHABLE = 6
EXIT_API = 7

app = typer.Typer(
    name="pulumi-d6",
    help="Inspect and manage d6+ SAMS client integrations, and run a local d6 emulator.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

BaseUrl = Annotated[
    str | None, typer.Option(help="API root, without /v2 (env D6_BASE_URL).", show_default=False)
]
Username = Annotated[
    str | None, typer.Option(help="Integrator username (env D6_USERNAME).", show_default=False)
]
Password = Annotated[
    str | None,
    typer.Option(help="Integrator password; prefer the D6_PASSWORD variable.", show_default=False),
]
ApiVersion = Annotated[
    str | None, typer.Option(help="v2 or v1 endpoints (env D6_API_VERSION).", show_default=False)
]


def _id_parser(field: str) -> Callable[[str], int]:
    """The shared bounded id parser, as a click parameter type (bad values: exit 2)."""

    def parse(value: str) -> int:
        try:
            return parse_id(value, field)
        except InvalidValueError as exc:
            message = str(exc)
        raise typer.BadParameter(message)

    return parse


SchoolFilter = Annotated[
    int | None,
    typer.Option("--school-id", parser=_id_parser("value"), help="Only this school."),
]
TypeFilter = Annotated[
    int | None,
    typer.Option("--api-type-id", parser=_id_parser("value"), help="Only this API type."),
]
SchoolArg = Annotated[int, typer.Argument(parser=_id_parser("value"), help="d6 school id.")]
TypeArg = Annotated[int, typer.Argument(parser=_id_parser("value"), help="d6 API type id, e.g. 8.")]
# What a credential source is called in messages: the flag the user typed.
FLAG_NAMES = {
    "base_url": "--base-url",
    "username": "--username",
    "password": "--password",
    "api_version": "--api-version",
}


class CodegenFormat(str, Enum):
    python = "python"
    yaml = "yaml"


def _client(
    base_url: str | None, username: str | None, password: str | None, api_version: str | None
) -> D6Client:
    explicit = {
        "base_url": base_url,
        "username": username,
        "password": password,
        "api_version": api_version,
    }
    given = {k: v for k, v in explicit.items() if v is not None}
    return D6Client(resolve_settings(given, explicit_names=FLAG_NAMES))


@contextmanager
def _errors() -> Iterator[None]:
    """Print d6 errors as one clear line and exit with a code that says which kind."""
    try:
        yield
    except MissingCredentialsError:
        _fail(
            EXIT_USAGE,
            "d6 credentials not set: pass --username (or set D6_USERNAME) and set D6_PASSWORD "
            "(or pass --password).",
        )
    except SettingsError as exc:
        _fail(EXIT_USAGE, str(exc))
    except BadCredentialsError as exc:
        _fail(EXIT_CREDENTIALS, f"d6 rejected the credentials: {exc}")
    except NotAuthorisedError as exc:
        _fail(
            EXIT_NOT_AUTHORISED,
            f"{exc}\nThe school has not authorised your integration in d6+; ask it to, then retry.",
        )
    except BadRequestError as exc:
        _fail(EXIT_VALIDATION, str(exc))
    except D6ConnectionError as exc:
        _fail(EXIT_UNREACHABLE, str(exc))
    except D6Error as exc:
        _fail(EXIT_API, str(exc))


def _fail(code: int, message: str) -> NoReturn:
    err.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(code)


def _fetch(
    client: D6Client, school_id: int | None, api_type_id: int | None
) -> list[ClientIntegrationInfo]:
    """Every page, with a live count on stderr while paging (stdout stays clean for --json)."""
    items: list[ClientIntegrationInfo] = []
    with err.status("Fetching client integrations from d6...") as status:
        for item in client.iter_integrations(school_id, api_type_id):
            items.append(item)
            status.update(f"Fetching client integrations from d6... {len(items)} so far")
    return items


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


@app.command()
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
    with _errors():
        client = _client(base_url, username, password, api_version)
        items = _fetch(client, school_id, api_type_id)
    if as_json:
        typer.echo(json.dumps([i.model_dump() for i in items], indent=2))
        return
    table = Table(title=f"{len(items)} authorised client integration(s)")
    for column in ("school", "name", "API type", "active", "email", "telephone"):
        table.add_column(column)
    for i in items:
        table.add_row(
            str(i.school_id),
            i.school_name,
            f"{i.api_type_id} {i.api_type}".strip(),
            "yes" if i.active else "no",
            i.admin_email_address,
            f"+{i.telephone_calling_code} {i.telephone_number}".strip(" +"),
        )
    out.print(table)


@app.command()
def codegen(
    fmt: Annotated[
        CodegenFormat, typer.Option("--format", help="python: a program; yaml: stack config.")
    ] = CodegenFormat.yaml,
    api_type_id: TypeFilter = None,
    base_url: BaseUrl = None,
    username: Username = None,
    password: Password = None,
    api_version: ApiVersion = None,
) -> None:
    """Print declarations for every active integration, to bring them under management.

    `pulumi import` cannot work for dynamic providers; declaring what is already active and
    running `pulumi up` adopts it instead, with no change in d6.
    """
    with _errors():
        client = _client(base_url, username, password, api_version)
        active = [i for i in _fetch(client, None, api_type_id) if i.active]
    typer.echo(render_python(active) if fmt is CodegenFormat.python else render_yaml(active))


def _change(
    school_id: int,
    api_type_id: int,
    active: bool,
    base_url: str | None,
    username: str | None,
    password: str | None,
    api_version: str | None,
) -> None:
    with _errors():
        client = _client(base_url, username, password, api_version)
        result = client.set_state(school_id, api_type_id, active)
    verb = "activated" if active else "deactivated"
    if result.changed:
        out.print(f"{school_id}/{api_type_id}: {verb}")
    else:
        out.print(f"{school_id}/{api_type_id}: already {verb}, nothing changed")


@app.command()
def activate(
    school_id: SchoolArg,
    api_type_id: TypeArg,
    base_url: BaseUrl = None,
    username: Username = None,
    password: Password = None,
    api_version: ApiVersion = None,
) -> None:
    """Activate one integration now (a one-off; use the provider to keep it)."""
    _change(school_id, api_type_id, True, base_url, username, password, api_version)


@app.command()
def deactivate(
    school_id: SchoolArg,
    api_type_id: TypeArg,
    base_url: BaseUrl = None,
    username: Username = None,
    password: Password = None,
    api_version: ApiVersion = None,
) -> None:
    """Deactivate one integration now (a one-off)."""
    _change(school_id, api_type_id, False, base_url, username, password, api_version)


app.add_typer(emulator_app, name="emulator", help="Run the local d6 emulator until Ctrl-C.")


def main() -> None:
    configure_from_env()
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
