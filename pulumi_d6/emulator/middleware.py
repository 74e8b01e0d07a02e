"""The emulator's ASGI middleware: admin access control, rate limiting, latency, injected faults
and the request log, around every request before the routes see it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..settings import is_loopback_host
from .faults import Fault, FaultKind
from .runtime import Emulator
from .wire import (
    BAD_CREDENTIALS,
    RATE_LIMIT_MESSAGE,
    page_limit,
    route_of,
    v1_empty_listing,
    v2_error,
    v2_page,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TRANSPORT_KEY = "pulumi_d6.transport"
MAX_BODY_BYTES = 64 * 1024  # d6's bodies are a few dozen bytes
TOO_LARGE = "The request body is too large"
_STATUS_MESSAGES = {
    401: BAD_CREDENTIALS,
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


class _BodyTooLarge(StarletteHTTPException):
    """An HTTP error, so that a route reading its body (FastAPI turns any other exception there
    into 400 "error parsing the body") answers 413 like every other route."""

    def __init__(self) -> None:
        super().__init__(413, TOO_LARGE)


class EmulatorMiddleware:
    """Admin access control, body size limit, rate limiting, fault injection, request log."""

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
            if not client or not is_loopback_host(str(client[0])):
                await _send(send, v2_error(403, "the emulator admin API is loopback-only"))
                return
        if _declared_length(scope) > MAX_BODY_BYTES:
            await _send(send, v2_error(413, TOO_LARGE))
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            if path.startswith("/api"):
                await self._api(scope, _limited(receive), tracking_send)
            else:
                await self.app(scope, _limited(receive), tracking_send)
        except _BodyTooLarge:
            if not started:
                await _send(send, v2_error(413, TOO_LARGE))

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
            if emu.config.latency_ms:  # a WAN round trip, without holding a worker thread
                await asyncio.sleep(emu.config.latency_ms / 1000)
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
        elif fault.kind is FaultKind.EMPTY_LISTING:
            if scope["path"].startswith("/api/v1"):
                await _send(send, v1_empty_listing())
            else:
                config = self.emulator.config
                limit = page_limit(scope.get("query_string", b""), config)
                await _send(send, v2_page([], config, limit))
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


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


def _limited(receive: Receive) -> Receive:
    """``receive`` that stops a body (chunked, so of no declared length) past the limit."""
    received = 0

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                raise _BodyTooLarge
        return message

    return limited


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
