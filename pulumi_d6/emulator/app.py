"""The emulator as an ASGI app: d6's client-integration routes under /api, admin under /_emulator.

Laid out as FastAPI's "bigger applications": one router per route group (``routes/``), wire
shapes and parsing in ``wire.py``, cross-cutting behaviour in ``middleware.py``. Where d6's docs
are silent the emulator picks the reading the docs suggest (docs/d6-api.md lists them).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .config import EmulatorConfig
from .middleware import EmulatorMiddleware
from .routes import admin, v1, v2
from .routes.auth import Refusal
from .runtime import Emulator
from .store import Store
from .wire import v2_error


def create_app(config: EmulatorConfig | None = None, store: Store | None = None) -> FastAPI:
    """The emulator as an ASGI app (serve it with uvicorn, see ``server.py``)."""
    emu = Emulator(config or EmulatorConfig(), store or Store())
    app = FastAPI(title="d6 Integrate emulator (pulumi-d6)", docs_url=None, redoc_url=None)
    app.state.emulator = emu
    app.include_router(v2.router)
    app.include_router(v1.router)
    app.include_router(admin.router)

    @app.exception_handler(Refusal)
    async def _refused(_request: Request, exc: Refusal) -> Response:
        return exc.response

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return v2_error(404, "route_not_found")
        if exc.status_code == 405:
            return v2_error(405, "Method not allowed")
        return v2_error(exc.status_code, str(exc.detail))

    app.add_middleware(EmulatorMiddleware, emulator=emu)
    return app
