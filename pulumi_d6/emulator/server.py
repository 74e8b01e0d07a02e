"""Serving the emulator with uvicorn: in a background thread (tests) or in the foreground (CLI).

The HTTP protocol is uvicorn's httptools one (h11 where httptools is missing), on uvloop where it
is installed, extended only to hand the app its connection's transport,
so that the "drop" fault can close a connection without answering, as a real network does.
"""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .app import create_app
from .config import EmulatorConfig
from .middleware import TRANSPORT_KEY, Scope
from .store import Store

if TYPE_CHECKING:
    from fastapi import FastAPI

try:  # httptools parses HTTP in C, several times faster than h11 (pure Python)
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as BaseProtocol
except ImportError:  # pragma: no cover - the emulator extra installs httptools
    BaseProtocol = H11Protocol  # type: ignore[assignment,misc]


class TransportExposingProtocol(BaseProtocol):
    """uvicorn's HTTP protocol, with the connection's transport in ``scope["extensions"]``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inner = self.app

        async def app(scope: Scope, receive: Any, send: Any) -> None:
            scope["extensions"] = {**(scope.get("extensions") or {}), TRANSPORT_KEY: self.transport}
            await inner(scope, receive, send)

        self.app = app


class _QuietDroppedConnections(logging.Filter):
    """A dropped connection is a fault we injected on purpose, not an error to report."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without starting response" not in record.getMessage()


logging.getLogger("uvicorn.error").addFilter(_QuietDroppedConnections())


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it every answer waits ~40 ms for a delayed ACK (headers and body are two writes).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class EmulatorServer:
    """A real emulator server on ``host:port`` (port 0 picks a free one).

    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        db: str | Path = ":memory:",
        seed: int = 0,
        reset: bool = False,
        log_level: str = "warning",
        access_log: bool = False,
    ) -> None:
        self.config: EmulatorConfig = config or EmulatorConfig()
        self.store: Store = Store(db)
        if reset:
            self.store.reset(seed)  # forget what the database held, then seed
        elif seed:
            self.store.seed(seed)  # adds to what the database holds
        self.app: FastAPI = create_app(self.config, self.store)
        self.host = host
        self._socket = bind_socket(host, port)
        self.port: int = self._socket.getsockname()[1]
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                http=TransportExposingProtocol,
                lifespan="off",
                log_level=log_level,
                access_log=access_log,
                timeout_graceful_shutdown=2,
            )
        )
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The d6 API root to configure as ``d6:baseUrl``."""
        return f"{self.url}/api"

    @property
    def admin_url(self) -> str:
        return f"{self.url}/_emulator"

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        for _ in range(500):
            if self._server.started:
                return self
            if not self._thread.is_alive():
                break
            threading.Event().wait(0.01)
        raise RuntimeError("the d6 emulator did not start")

    def serve_forever(self) -> None:
        """Serve in this thread until Ctrl-C (SIGINT) or SIGTERM; Ctrl-C returns normally."""
        try:
            self._server.run(sockets=[self._socket])
        except KeyboardInterrupt:  # uvicorn re-raises the signal after its graceful shutdown
            pass
        finally:
            self.store.close()

    def request_stop(self, *_signal: object) -> None:
        """Ask ``serve_forever`` to stop, also before uvicorn has started: a signal handler, so
        a Ctrl-C between the banner and uvicorn's own handler is never lost."""
        self._server.should_exit = True

    def stop(self) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._socket.close()
        self.store.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
