"""Router dependencies that refuse a request before its handler runs, as d6 does.

A refusal is raised as :class:`Refusal` and answered by the app's exception handler with the
body it carries, so handlers never open with an auth preamble. They are ``async`` because they
do no I/O: FastAPI would run a plain function in its thread pool, a hop on every request.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from ..runtime import emulator_of
from ..wire import v1_error, v2_error


class Refusal(Exception):
    """An answer given instead of the route's own (404 version off, 405, 401)."""

    def __init__(self, response: JSONResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


async def require_v2(request: Request) -> None:
    cfg = emulator_of(request).config
    if request.method in ("PATCH", "POST") and request.method not in cfg.v2_state_methods:
        raise Refusal(v2_error(405, "Method not allowed"))
    if "v2" not in cfg.api_versions:
        raise Refusal(v2_error(404, "route_not_found"))
    if not emulator_of(request).credentials_ok(request):
        raise Refusal(v2_error(401, "Invalid API credentials"))


async def require_v1(request: Request) -> None:
    if "v1" not in emulator_of(request).config.api_versions:
        raise Refusal(v2_error(404, "route_not_found"))
    if not emulator_of(request).credentials_ok(request):
        raise Refusal(v1_error(401, "Unauthorized", "Invalid API credentials"))
