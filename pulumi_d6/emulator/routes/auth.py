"""Router dependencies that refuse a request before its handler runs, as d6 does.

A refusal is raised as :class:`Refusal` and answered by the app's exception handler with the
body it carries, so handlers never open with an auth preamble. They are ``async`` because they
do no I/O: FastAPI would run a plain function in its thread pool, a hop on every request. The
two credential headers are declared as ``Security`` parameters, so the schema names them as
its security scheme; the check itself compares both in constant time (``runtime.py``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Request, Security
from fastapi.responses import JSONResponse

from ..config import EmulatorConfig
from ..openapi import PASSWORD_HEADER, USERNAME_HEADER
from ..runtime import emulator_of
from ..wire import (
    BAD_CREDENTIALS,
    METHOD_NOT_ALLOWED,
    ROUTE_NOT_FOUND,
    v1_bad_credentials,
    v2_error,
)

Username = Annotated[str | None, Security(USERNAME_HEADER)]
Password = Annotated[str | None, Security(PASSWORD_HEADER)]


class Refusal(Exception):
    """An answer given instead of the route's own (404 version off, 405, 401)."""

    def __init__(self, response: JSONResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


def v2_allowed(cfg: EmulatorConfig) -> str:
    """The v2 route's ``Allow``: the listing, and the change-state methods this d6 accepts."""
    return ", ".join(["GET", *sorted(cfg.v2_state_methods)])


async def require_v2(request: Request, _user: Username = None, _pw: Password = None) -> None:
    cfg = emulator_of(request).config
    if request.method in ("PATCH", "POST") and request.method not in cfg.v2_state_methods:
        refusal = v2_error(405, METHOD_NOT_ALLOWED)
        refusal.headers["Allow"] = v2_allowed(cfg)
        raise Refusal(refusal)
    if "v2" not in cfg.api_versions:
        raise Refusal(v2_error(404, ROUTE_NOT_FOUND))
    if not emulator_of(request).credentials_ok(request):
        raise Refusal(v2_error(401, BAD_CREDENTIALS))


async def require_v1(request: Request, _user: Username = None, _pw: Password = None) -> None:
    if "v1" not in emulator_of(request).config.api_versions:
        raise Refusal(v2_error(404, ROUTE_NOT_FOUND))
    if not emulator_of(request).credentials_ok(request):
        raise Refusal(v1_bad_credentials())
