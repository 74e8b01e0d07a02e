"""Which credentials ``pulumi-d6 emulator`` accepts, where they came from, and how it says so.

The emulator reads the client's own variables, ``D6_USERNAME`` and ``D6_PASSWORD``: exported
once, the emulator and every ``pulumi-d6`` command or Pulumi program agree, and the password
stays out of the process list. A flag still wins over a variable, and a variable over the demo
default. What it prints names the username and where the password came from, never the password
(its value is public only when it is the documented default).
"""

from __future__ import annotations

import typer

from ..settings import header_problem

USERNAME_VARIABLE = "D6_USERNAME"
PASSWORD_VARIABLE = "D6_PASSWORD"  # noqa: S105 - a variable's name, not a password
DEFAULT_USERNAME = "demo"
DEFAULT_SOURCE = "default"
DEFAULT_PASSWORD = "demo"  # noqa: S105 - the emulator's documented demo credential


def source_of(ctx: typer.Context, name: str, variable: str) -> str:
    """``--name``, the variable's name, or ``default``: what a user would change."""
    source = ctx.get_parameter_source(name)
    kind = "DEFAULT" if source is None else source.name
    if kind == "ENVIRONMENT":
        return variable
    if kind == "COMMANDLINE":
        return f"--{name}"
    return DEFAULT_SOURCE


def credential_problem(value: str, source: str, what: str) -> str | None:
    """Why a credential from ``source`` cannot be used, in words that never show it: a client
    could not send it as a header value, so every request would be refused."""
    where = f"the {what} from {source}"
    if not value:
        return f"{where} is empty"
    problem = header_problem(value)
    return None if problem is None else f"{where} {problem}"


def announcement(username: str, username_from: str, password_from: str) -> str:
    """The start-up line naming what the emulator accepts."""
    said_user = f"username {username!r} " + (
        "(default)" if username_from == DEFAULT_SOURCE else f"(from {username_from})"
    )
    if password_from == DEFAULT_SOURCE:
        said_password = (
            f"the default password {DEFAULT_PASSWORD!r} (export {PASSWORD_VARIABLE} to choose one)"
        )
    elif password_from == PASSWORD_VARIABLE:
        said_password = f"the password from {PASSWORD_VARIABLE}"
    else:
        said_password = (
            f"the password from {password_from} (flags show in the process list: prefer "
            f"{PASSWORD_VARIABLE})"
        )
    return f"accepts {said_user} and {said_password}"
