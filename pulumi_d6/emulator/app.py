"""The emulator as an ASGI app: d6's client-integration routes under /api, admin under /_emulator.

Laid out as FastAPI's "bigger applications": one router per route group (``routes/``), wire
shapes and parsing in ``wire.py``, typed shapes in ``shapes.py`` and their OpenAPI description
in ``openapi.py``, cross-cutting behaviour in ``middleware.py``. Where d6's docs are silent the
emulator picks the reading the docs suggest (docs/d6-api.md lists them).
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import openapi
from .config import EmulatorConfig
from .middleware import EmulatorMiddleware
from .routes import admin, v1, v2
from .routes.auth import Refusal, v2_allowed
from .runtime import Emulator
from .store import Store
from .wire import METHOD_NOT_ALLOWED, ROUTE_NOT_FOUND, V2_ROUTE, route_of, v2_error

DESCRIPTION = """\
The d6+ SAMS Integrate API's client-integration routes as pulumi-d6 understands them, served by
its local emulator, and the emulator's own admin routes under `/_emulator` (loopback only).
What comes from d6's documentation and what the emulator guesses where it is silent:
docs/d6-api.md in the pulumi-d6 repository.
"""


def create_app(config: EmulatorConfig | None = None, store: Store | None = None) -> FastAPI:
    """The emulator as an ASGI app (serve it with uvicorn, see ``server.py``)."""
    config = config or EmulatorConfig()
    emu = Emulator(config, store or Store())
    app = FastAPI(
        title="d6 Integrate API (pulumi-d6 emulator)",
        version="2",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
    )
    app.state.emulator = emu
    app.include_router(v2.router)
    app.include_router(v1.router)
    app.include_router(admin.router)
    openapi.install(app, config)

    @app.exception_handler(Refusal)
    async def _refused(_request: Request, exc: Refusal) -> Response:
        return exc.response

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return v2_error(404, ROUTE_NOT_FOUND)
        response = v2_error(
            exc.status_code, METHOD_NOT_ALLOWED if exc.status_code == 405 else str(exc.detail)
        )
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:  # Starlette names the first route's methods, not the path's
            response.headers["Allow"] = _methods_of(app, request.url.path)
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid_body(_request: Request, exc: RequestValidationError) -> Response:
        """FastAPI's own 422, except that an input JSON cannot carry back (NaN, Infinity, a lone
        surrogate) is left out of it, where FastAPI's handler fails with a 500."""
        return JSONResponse({"detail": [_renderable(e) for e in exc.errors()]}, status_code=422)

    app.add_middleware(EmulatorMiddleware, emulator=emu)
    return app


def _renderable(error: Any) -> dict[str, Any]:
    detail = dict(jsonable_encoder(error))
    try:
        json.dumps(detail, allow_nan=False, ensure_ascii=False).encode()
    except ValueError:  # UnicodeEncodeError included
        detail.pop("input", None)
        detail.pop("ctx", None)
    return detail


def _methods_of(app: FastAPI, path: str) -> str:
    """The methods served on ``path``, as the schema lists them (v2: as configured)."""
    if route_of(path) == V2_ROUTE:
        return v2_allowed(app.state.emulator.config)
    for template, item in app.openapi()["paths"].items():
        if re.fullmatch(re.sub(r"\{[^/}]+\}", "[^/]+", template), path):
            return ", ".join(sorted(method.upper() for method in item))
    return ""
