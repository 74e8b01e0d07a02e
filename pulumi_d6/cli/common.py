"""What every ``pulumi-d6`` command shares: the consoles, the connection options, the client,
and the translation of errors into one line and an exit code.

Connection settings come from flags, then the ``D6_*`` environment (prefer ``D6_PASSWORD`` to
``--password``: flags are visible in the process list). Exit codes tell failures apart:

    0 ok · 1 drift found (``drift --exit-code``) · 2 usage or settings · 3 bad credentials ·
    4 school has not authorised · 5 validation failed · 6 d6 unreachable or timed out ·
    7 any other d6 error · 141 the reader closed the pipe early (see ``main``)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from ..client import D6Client
from ..errors import (
    BadCredentialsError,
    BadRequestError,
    D6ConnectionError,
    D6Error,
    InvalidValueError,
    NotAuthorisedError,
    SettingsError,
)

# Re-exported (``as``): commands and tests know the exit codes as ``cli.EXIT_*``.
from ..exits import EXIT_API as EXIT_API
from ..exits import EXIT_CREDENTIALS as EXIT_CREDENTIALS
from ..exits import EXIT_DRIFT as EXIT_DRIFT
from ..exits import EXIT_NOT_AUTHORISED as EXIT_NOT_AUTHORISED
from ..exits import EXIT_UNREACHABLE as EXIT_UNREACHABLE
from ..exits import EXIT_USAGE as EXIT_USAGE
from ..exits import EXIT_VALIDATION as EXIT_VALIDATION
from ..help_format import TableConsole
from ..models import ClientIntegrationInfo, parse_id
from ..settings import encrypted_settings, resolve_settings, stack_file_settings
from ..stackfile import stack_project

Command = TypeVar("Command", bound=Callable[..., Any])

# Tables (clients, drift, check-preview) as wide in a pipe as help is (see help_format).
out: Console = TableConsole(highlight=False, soft_wrap=True)
err: Console = TableConsole(stderr=True, highlight=False, soft_wrap=True)

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


def _id(value: str) -> int:
    """The shared bounded id parser as a click parameter parser (bad values: exit 2); click
    names the parameter, so the message says only what is wrong with the value."""
    try:
        return parse_id(value, "value")
    except InvalidValueError as exc:
        message = str(exc)
    raise typer.BadParameter(message)


SchoolFilter = Annotated[
    int | None,
    typer.Option("--school-id", parser=_id, help="Only this school."),
]
TypeFilter = Annotated[
    int | None,
    typer.Option("--api-type-id", parser=_id, help="Only this API type."),
]
SchoolArg = Annotated[int, typer.Argument(parser=_id, help="d6 school id.")]
TypeArg = Annotated[int, typer.Argument(parser=_id, help="d6 API type id, e.g. 8.")]
# What a credential source is called in messages: the flag the user typed.
FLAG_NAMES = {
    "base_url": "--base-url",
    "username": "--username",
    "password": "--password",
    "api_version": "--api-version",
}


def flowing_help(command: Command) -> Command:
    """Typer's help keeps the docstring's line breaks after its first paragraph, so a sentence
    would break where the source was wrapped: each paragraph becomes one line, which the
    terminal then wraps at its own width."""
    paragraphs = inspect.cleandoc(command.__doc__ or "").split("\n\n")
    command.__doc__ = "\n\n".join(" ".join(p.split()) for p in paragraphs)
    return command


def make_client(
    base_url: str | None,
    username: str | None,
    password: str | None,
    api_version: str | None,
    *,
    stack_file: Mapping[str, Any] | None = None,
    where: str = "the stack file",
) -> D6Client:
    """A client from the flags, then a stack file's plain ``d6:*`` settings (its ``config:``
    mapping, named ``where`` in messages), then the ``D6_*`` environment."""
    explicit = {
        "base_url": base_url,
        "username": username,
        "password": password,
        "api_version": api_version,
    }
    given = {k: v for k, v in explicit.items() if v is not None}
    config = stack_file or {}
    return D6Client(
        resolve_settings(
            given,
            config=stack_file_settings(config, where),
            explicit_names=FLAG_NAMES,
            encrypted=encrypted_settings(config),
        )
    )


@contextmanager
def errors_to_exit_codes() -> Iterator[None]:
    """Print d6 errors as one clear line and exit with a code that says which kind."""
    try:
        yield
    except (SettingsError, InvalidValueError) as exc:  # settings, stack files, declarations
        fail(EXIT_USAGE, str(exc))
    except BadCredentialsError as exc:
        fail(EXIT_CREDENTIALS, str(exc))
    except NotAuthorisedError as exc:
        fail(
            EXIT_NOT_AUTHORISED,
            f"{exc}\nThe school has not authorised your integration in d6+; ask it to, then retry.",
        )
    except BadRequestError as exc:
        fail(EXIT_VALIDATION, str(exc))
    except D6ConnectionError as exc:
        fail(EXIT_UNREACHABLE, str(exc))
    except D6Error as exc:
        fail(EXIT_API, str(exc))


def fail(code: int, message: str) -> NoReturn:
    err.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(code)


def fetch(
    client: D6Client, school_id: int | None, api_type_id: int | None
) -> list[ClientIntegrationInfo]:
    """Every page, with a live count on stderr while paging (stdout stays clean for --json)."""
    items: list[ClientIntegrationInfo] = []
    with err.status("Fetching client integrations from d6...") as status:
        for item in client.iter_integrations(school_id, api_type_id):
            items.append(item)
            status.update(f"Fetching client integrations from d6... {len(items)} so far")
    return items


def stack_file_project(stack_file: Path, config: Mapping[str, Any]) -> str:
    """The project whose keys ``stack_file`` holds (``stackfile.stack_project``), saying on
    stderr when it was inferred from the file's own keys."""
    namespace, note = stack_project(stack_file, dict(config))
    if note:
        err.print(f"note: {escape(note)}")
    return namespace
