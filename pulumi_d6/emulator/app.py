"""The emulator's HTTP app: d6's client-integration routes under /api, admin under /_emulator.

Bodies and status codes follow reference/d6-api.md: v2 answers ``{success, message, data}`` and
``{data, meta}`` with cursor pagination; v1 answers bare arrays with string ids and 204 on a
state change. Where d6's docs are silent the emulator picks the reading the docs suggest and the
README lists it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import ipaddress
import json
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .faults import Fault, FaultBook, FaultKind
from .requestlog import RequestLog
from .store import School, Store, generated_school

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

V2_ROUTE = "/api/v2/settings/clientintegrations"
V1_ROUTE = "/api/v1/settings/clients"
V1_SCHOOL_ROUTE = "/api/v1/settings/clients/{school_login_id}"
TRANSPORT_KEY = "pulumi_d6.transport"
RATE_LIMIT_MESSAGE = "Rate limits have been reached, please slow down your requests."
_ROUTES = (
    (re.compile(r"^/api/v2/settings/clientintegrations/?$"), V2_ROUTE),
    (re.compile(r"^/api/v1/settings/clients/?$"), V1_ROUTE),
    (re.compile(r"^/api/v1/settings/clients/[^/]+/?$"), V1_SCHOOL_ROUTE),
)
_STATUS_MESSAGES = {
    401: "Invalid API credentials",
    429: RATE_LIMIT_MESSAGE,
    500: "Internal server error which has been logged and being attended to.",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_HTML_PAGE = (
    "<html><head><title>{status} Bad Gateway</title></head><body><center>"
    "<h1>{status} Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
)


@dataclass(frozen=True)
class EmulatorConfig:
    """How the emulated d6 behaves. Defaults are the docs' example values."""

    username: str = "demo"
    password: str = field(default="demo", repr=False)
    page_size: int = 10
    max_page_size: int = 50
    rate_limit: float | None = None
    v2_state_methods: frozenset[str] = frozenset({"PATCH", "POST"})
    api_versions: frozenset[str] = frozenset({"v1", "v2"})

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= self.max_page_size:
            raise ValueError("page_size must be between 1 and max_page_size")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ValueError("rate_limit must be > 0")


class TokenBucket:
    """Allows ``rate`` requests per second with a burst of ``max(1, rate)``."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self._tokens = self.capacity
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> float:
        """0 when allowed, else the seconds until the next token."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.rate


def route_of(path: str) -> str:
    """The route template a path belongs to (the request log counts by template)."""
    for pattern, template in _ROUTES:
        if pattern.match(path):
            return template
    return path


def is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --------------------------------------------------------------- bodies


def v2_record(row: Any) -> dict[str, Any]:
    return {
        "school_id": row.school_id,
        "school_name": row.school_name,
        "admin_email_address": row.admin_email_address,
        "telephone_calling_code": row.telephone_calling_code,
        "telephone_number": row.telephone_number,
        "api_type_id": row.api_type_id,
        "api_type": row.api_type,
        "activated_by_integrator": "Yes" if row.active else "No",
    }


def v1_record(row: Any) -> dict[str, Any]:
    record = v2_record(row)
    del record["school_id"]
    return {"school_login_id": str(row.school_id), **record, "api_type_id": str(row.api_type_id)}


def v2_error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"success": False, "message": message, **extra}, status_code=status)


def v1_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def validation_failed(errors: dict[str, str]) -> JSONResponse:
    return v2_error(400, "Validation Failed", validation_errors=errors)


def encode_cursor(key: tuple[int, int], reverse: bool) -> str:
    raw = json.dumps({"id": list(key), "_backward": reverse}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int] | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        sid, tid = data["id"]
        if isinstance(sid, int) and isinstance(tid, int) and not isinstance(sid, bool):
            return (sid, tid)
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        pass
    return None


def parse_boolean(value: Any, *, query: bool = False) -> bool | None:
    """d6's (Laravel's) boolean rule: true, false, 1, 0, "1", "0"; None when invalid.

    Query strings are always text, so ``query=True`` also accepts "true" and "false".
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "1" or (query and text == "true"):
            return True
        if text == "0" or (query and text == "false"):
            return False
    return None


SQLITE_MAX_INT = 2**63 - 1


def parse_id(value: Any) -> int | None:
    """A positive integer id (JSON number or digit string) SQLite can store; None when invalid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return value if 0 < value <= SQLITE_MAX_INT else None
    text = value.strip() if isinstance(value, str) else ""
    if text.isascii() and text.isdigit() and len(text.lstrip("0")) <= 19:
        return parse_id(int(text))
    return None


# ------------------------------------------------------------- middleware


class EmulatorMiddleware:
    """Admin access control, rate limiting, fault injection and the request log."""

    def __init__(self, app: ASGIApp, emulator: Emulator) -> None:
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/_emulator"):
            client = scope.get("client")
            if not client or not is_loopback(str(client[0])):
                await _send(send, v2_error(403, "the emulator admin API is loopback-only"))
                return
            await self.app(scope, receive, send)
            return
        if not path.startswith("/api"):
            await self.app(scope, receive, send)
            return
        await self._api(scope, receive, send)

    async def _api(self, scope: Scope, receive: Receive, send: Send) -> None:
        emu = self.emulator
        method: str = scope["method"]
        route = route_of(scope["path"])
        status = [0]
        fault_name: str | None = None

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            if emu.limiter is not None:
                wait = emu.limiter.take()
                if wait > 0:
                    retry_after = str(max(1, int(wait + 0.999)))
                    response = v2_error(429, RATE_LIMIT_MESSAGE)
                    response.headers["Retry-After"] = retry_after
                    await _send(recording_send, response)
                    return
            fault = emu.faults.take(method, route)
            if fault is not None:
                fault_name = fault.kind.value
                if fault.kind is FaultKind.DELAY:
                    # A slow server: it has the request, applies it late, answers late (possibly
                    # to a client that gave up). So take the body now, then wait, then process.
                    receive = await _buffered(receive)
                    await asyncio.sleep(fault.delay_seconds)
                elif await self._apply(fault, scope, recording_send):
                    return
            await self.app(scope, receive, recording_send)
        finally:
            query = scope.get("query_string", b"").decode("latin-1")
            emu.log.record(method, route, scope["path"], query, status[0], fault_name)

    async def _apply(self, fault: Fault, scope: Scope, send: Send) -> bool:
        """Answer with the fault instead of the app (True: the request is answered)."""
        if fault.kind is FaultKind.STATUS:
            response = v2_error(fault.status, _STATUS_MESSAGES.get(fault.status, "Injected fault"))
            if fault.retry_after is not None:
                response.headers["Retry-After"] = fault.retry_after
            await _send(send, response)
        elif fault.kind is FaultKind.HTML:
            page = _HTML_PAGE.format(status=fault.status)
            await _send(send, Response(page, status_code=fault.status, media_type="text/html"))
        elif fault.kind is FaultKind.MALFORMED_JSON:
            body = '{"success": true, "data": [{"school_id": 10'
            await _send(send, Response(body, status_code=200, media_type="application/json"))
        elif fault.kind is FaultKind.EMPTY_BODY:
            await _send(send, Response(b"", status_code=200, media_type="application/json"))
        elif fault.kind is FaultKind.DROP:
            transport = scope.get("extensions", {}).get(TRANSPORT_KEY)
            if transport is not None:
                transport.abort()
            else:  # not served by our protocol: promise a body, then close mid-way
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [(b"content-length", b"1000")],
                    }
                )
                await send({"type": "http.response.body", "body": b"{", "more_body": True})
        return True


async def _buffered(receive: Receive) -> Receive:
    """Read the whole request body now; the returned ``receive`` replays it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _send(send: Send, response: Response) -> None:
    async def no_receive() -> Message:
        return {"type": "http.disconnect"}

    await response({"type": "http"}, no_receive, send)


# ------------------------------------------------------------- emulator


class AuthoriseBody(BaseModel):
    school_id: int = Field(gt=0)
    api_type_id: int = Field(gt=0)
    active: bool = False
    school_name: str | None = None
    admin_email_address: str | None = None
    telephone_calling_code: str | None = None
    telephone_number: str | None = None
    api_type: str | None = None


class StateBody(BaseModel):
    active: bool


class FaultBody(BaseModel):
    kind: FaultKind
    route: str = "*"
    method: str = "*"
    count: int = Field(default=1, ge=1)
    status: int = Field(default=503, ge=100, le=599)
    retry_after: str | None = None
    delay_seconds: float = Field(default=0.0, ge=0)


class ResetBody(BaseModel):
    seed: int = Field(default=0, ge=0)


class Emulator:
    """The state behind one emulator app: config, store, faults, request log, rate limiter."""

    def __init__(self, config: EmulatorConfig, store: Store) -> None:
        self.config = config
        self.store = store
        self.faults = FaultBook()
        self.log = RequestLog()
        self.limiter = TokenBucket(config.rate_limit) if config.rate_limit else None

    def credentials_ok(self, request: Request) -> bool:
        user = request.headers.get("http-x-username", "")
        password = request.headers.get("http-x-password", "")
        return secrets.compare_digest(
            user.encode(), self.config.username.encode()
        ) & secrets.compare_digest(password.encode(), self.config.password.encode())


def create_app(config: EmulatorConfig | None = None, store: Store | None = None) -> FastAPI:
    """The emulator as an ASGI app (serve it with uvicorn, see ``server.py``)."""
    emu = Emulator(config or EmulatorConfig(), store or Store())
    app = FastAPI(title="d6 Integrate emulator (pulumi-d6)", docs_url=None, redoc_url=None)
    app.state.emulator = emu
    _add_v2_routes(app, emu)
    _add_v1_routes(app, emu)
    _add_admin_routes(app, emu)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return v2_error(404, "route_not_found")
        if exc.status_code == 405:
            return v2_error(405, "Method not allowed")
        return v2_error(exc.status_code, str(exc.detail))

    app.add_middleware(EmulatorMiddleware, emulator=emu)
    return app


def _add_v2_routes(app: FastAPI, emu: Emulator) -> None:
    cfg = emu.config

    def denied(request: Request) -> JSONResponse | None:
        if "v2" not in cfg.api_versions:
            return v2_error(404, "route_not_found")
        if not emu.credentials_ok(request):
            return v2_error(401, "Invalid API credentials")
        return None

    @app.get(V2_ROUTE)
    def list_integrations(request: Request) -> Response:
        if (refusal := denied(request)) is not None:
            return refusal
        q = request.query_params
        errors: dict[str, str] = {}
        filters: dict[str, int | None] = {}
        for name in ("school_id", "api_type_id"):
            filters[name] = None
            if q.get(name) not in (None, ""):
                filters[name] = parse_id(q.get(name))
                if filters[name] is None:
                    errors[name] = f"The {name} must be an integer"
        limit = cfg.page_size
        if q.get("limit") not in (None, ""):
            parsed = parse_id(q.get("limit"))
            if parsed is None or parsed > cfg.max_page_size:
                errors["limit"] = f"The limit must be an integer between 1 and {cfg.max_page_size}"
            else:
                limit = parsed
        reverse = False
        if q.get("reverse_order") not in (None, ""):
            parsed_bool = parse_boolean(q.get("reverse_order"), query=True)
            if parsed_bool is None:
                errors["reverse_order"] = "The reverse_order must be a boolean"
            reverse = bool(parsed_bool)
        after = None
        if q.get("cursor") not in (None, ""):
            after = decode_cursor(str(q.get("cursor")))
            if after is None:
                errors["cursor"] = "The cursor is invalid"
        if errors:
            return validation_failed(errors)
        rows = emu.store.list(
            school_id=filters["school_id"],
            api_type_id=filters["api_type_id"],
            after=after,
            limit=limit + 1,
            reverse=reverse,
        )
        meta: dict[str, Any] = {"limit": cfg.page_size, "max_allowed_limit": cfg.max_page_size}
        if len(rows) > limit:
            rows = rows[:limit]
            meta["next_cursor"] = encode_cursor(rows[-1].key, reverse)
        return JSONResponse({"data": [v2_record(r) for r in rows], "meta": meta})

    async def change_state(request: Request) -> Response:
        if request.method not in cfg.v2_state_methods:
            return v2_error(405, "Method not allowed")
        if (refusal := denied(request)) is not None:
            return refusal
        body = await _json_object(request)
        errors: dict[str, str] = {}
        school_id = _required_id(body, "school_id", errors)
        api_type_id = _required_id(body, "api_type_id", errors)
        if api_type_id is not None and not await run_in_threadpool(
            emu.store.api_type_exists, api_type_id
        ):
            errors["api_type_id"] = "The api_type_id is invalid"
        state = None
        if "state" not in body or body["state"] is None:
            errors["state"] = "The state field is required"
        else:
            state = parse_boolean(body["state"])
            if state is None:
                errors["state"] = "The State must be a boolean"
        if errors or school_id is None or api_type_id is None or state is None:
            return validation_failed(errors)
        result = await run_in_threadpool(emu.store.set_active, school_id, api_type_id, state)
        if result is None:
            return v2_error(401, "Client has not authorised access")
        before, after = result
        verb = "activated" if state else "deactivated"
        if before.active == state:
            return v2_error(400, f"Integration already {verb}", data=v2_record(after))
        return JSONResponse(
            {
                "success": True,
                "message": f"Integration successfully {verb}",
                "data": v2_record(after),
            }
        )

    app.add_api_route(V2_ROUTE, change_state, methods=["PATCH", "POST"])


def _add_v1_routes(app: FastAPI, emu: Emulator) -> None:
    cfg = emu.config

    def denied(request: Request) -> JSONResponse | None:
        if "v1" not in cfg.api_versions:
            return v2_error(404, "route_not_found")
        if not emu.credentials_ok(request):
            return v1_error(401, "Unauthorized", "Invalid API credentials")
        return None

    def listing(school_id: int | None) -> Response:
        rows = emu.store.list(school_id=school_id)
        if not rows:
            return v1_error(404, "Not found", "No client-authorised integrations found")
        return JSONResponse([v1_record(r) for r in rows])

    @app.get(V1_ROUTE)
    def list_clients(request: Request) -> Response:
        return denied(request) or listing(None)

    @app.get(V1_SCHOOL_ROUTE)
    def list_school(request: Request, school_login_id: str) -> Response:
        if (refusal := denied(request)) is not None:
            return refusal
        school_id = parse_id(school_login_id)
        if school_id is None:
            return v1_error(400, "Bad Request", "The school_login_id must be an integer")
        return listing(school_id)

    @app.patch(V1_SCHOOL_ROUTE)
    async def change_school(request: Request, school_login_id: str) -> Response:
        if (refusal := denied(request)) is not None:
            return refusal
        school_id = parse_id(school_login_id)
        body = await _json_object(request)
        problems = []
        if school_id is None:
            problems.append("The school_login_id must be an integer")
        api_type_id = parse_id(body.get("api_type_id"))
        if api_type_id is None:
            problems.append("The api_type_id is required and must be an integer")
        state = parse_boolean(body.get("state"))
        if state is None:
            problems.append("The state is required and must be 1 or 0")
        if problems or school_id is None or api_type_id is None or state is None:
            return v1_error(400, "Bad Request", "; ".join(problems))
        result = await run_in_threadpool(emu.store.set_active, school_id, api_type_id, state)
        if result is None:
            return v1_error(401, "Unauthorized", "Client access not authorised")
        return Response(status_code=204)


def _add_admin_routes(app: FastAPI, emu: Emulator) -> None:
    store = emu.store

    @app.get("/_emulator/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", **store.counts()}

    @app.post("/_emulator/reset")
    def reset(body: ResetBody | None = None) -> dict[str, Any]:
        store.reset((body or ResetBody()).seed)
        emu.faults.clear()
        emu.log.clear()
        return {"status": "ok", **store.counts()}

    @app.post("/_emulator/authorisations")
    def authorise(body: AuthoriseBody) -> dict[str, Any]:
        details = (
            body.school_name,
            body.admin_email_address,
            body.telephone_calling_code,
            body.telephone_number,
        )
        if any(details):
            base = generated_school(body.school_id)
            store.add_school(
                School(
                    body.school_id,
                    body.school_name or base.name,
                    body.admin_email_address or base.admin_email_address,
                    body.telephone_calling_code or base.telephone_calling_code,
                    body.telephone_number or base.telephone_number,
                )
            )
        if body.api_type:
            store.add_api_type(body.api_type_id, body.api_type)
        return v2_record(store.authorise(body.school_id, body.api_type_id, active=body.active))

    @app.delete("/_emulator/authorisations/{school_id}/{api_type_id}")
    def revoke(school_id: int, api_type_id: int) -> dict[str, Any]:
        return {"revoked": store.revoke(school_id, api_type_id)}

    @app.get("/_emulator/integrations/{school_id}/{api_type_id}")
    def get_integration(school_id: int, api_type_id: int) -> Response:
        row = store.get(school_id, api_type_id)
        if row is None:
            return v2_error(404, "not authorised")
        return JSONResponse(v2_record(row))

    @app.put("/_emulator/integrations/{school_id}/{api_type_id}")
    def set_integration(school_id: int, api_type_id: int, body: StateBody) -> Response:
        result = store.set_active(school_id, api_type_id, body.active)
        if result is None:
            return v2_error(404, "not authorised")
        return JSONResponse(v2_record(result[1]))

    @app.post("/_emulator/faults")
    def add_fault(body: FaultBody) -> dict[str, Any]:
        fault = Fault(**body.model_dump())
        emu.faults.add(fault)
        return fault.as_dict()

    @app.get("/_emulator/faults")
    def list_faults() -> list[dict[str, Any]]:
        return emu.faults.pending()

    @app.delete("/_emulator/faults")
    def clear_faults() -> dict[str, str]:
        emu.faults.clear()
        return {"status": "ok"}

    @app.get("/_emulator/requests")
    def requests_log(last: int = 100) -> dict[str, Any]:
        return emu.log.snapshot(last)

    @app.delete("/_emulator/requests")
    def clear_requests() -> dict[str, str]:
        emu.log.clear()
        return {"status": "ok"}


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _required_id(body: dict[str, Any], name: str, errors: dict[str, str]) -> int | None:
    if name not in body or body[name] is None:
        errors[name] = f"The {name} field is required"
        return None
    value = parse_id(body[name])
    if value is None:
        errors[name] = f"The {name} must be an integer"
    return value
