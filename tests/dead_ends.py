"""Loopback addresses that fail the same way every time, held by the test until it is done.

A port bound and then released may be taken by anyone before it is used, and a server that
answers "late" only times a client out if the machine is not busier than the test assumed.
These sockets stay open for the whole ``with`` block, so neither can happen; and a request that
must time out once and then succeed is swallowed by a relay, never merely answered late.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def silent_server() -> Iterator[str]:
    """A base URL that accepts connections and never answers: every request times out."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)  # the kernel completes connections; nobody ever reads them
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/api"


@contextmanager
def refusing_server() -> Iterator[str]:
    """A base URL on a port held but never listened on: every connection is refused."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{held.getsockname()[1]}/api"


@contextmanager
def echoing_server(status: int, content_type: str, body: str) -> Iterator[str]:
    """A base URL whose every answer is ``status`` with ``body``, where ``{headers}`` becomes the
    request's d6 headers, credentials included (as a debug error page shows them)."""

    class Echo(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            shown = ", ".join(
                f"{name}: {value}"
                for name, value in self.headers.items()
                if name.lower().startswith("http-x-")
            )
            data = body.replace("{headers}", shown).encode("latin-1")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PATCH = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()


class StallingProxy:
    """A loopback TCP relay to ``upstream`` that can swallow the next requests of a method.

    ``stall("PATCH")`` makes the next PATCH (on whatever connection it comes) vanish: it never
    reaches upstream and that connection never answers again, so the client's read timeout
    fires whatever the machine's load, and its retry (a new connection) goes through.
    ``lose_answer("PATCH")`` lets the next PATCH reach upstream, which applies it, then drops
    upstream's answer and closes the connection: the client's retry comes after the change.
    """

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._lock = threading.Lock()
        self._stalls: dict[str, int] = {}
        self._losses: dict[str, int] = {}
        self._sockets: list[socket.socket] = []
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.base_url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/api"
        self.stalled = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def stall(self, method: str, count: int = 1) -> None:
        with self._lock:
            self._stalls[method] = self._stalls.get(method, 0) + count

    def lose_answer(self, method: str, count: int = 1) -> None:
        with self._lock:
            self._losses[method] = self._losses.get(method, 0) + count

    def clear(self) -> None:
        with self._lock:
            self._stalls.clear()
            self._losses.clear()

    def _swallows(self, chunk: bytes) -> bool:
        return self._take(self._stalls, chunk)

    def _take(self, pending: dict[str, int], chunk: bytes) -> bool:
        method = chunk.split(b" ", 1)[0].decode("latin-1")
        with self._lock:
            if pending.get(method, 0) <= 0:
                return False
            pending[method] -= 1
            self.stalled += 1
            return True

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(self.upstream)
            with self._lock:
                self._sockets += [client, upstream]
            dead, lost = threading.Event(), threading.Event()
            threading.Thread(
                target=self._pump, args=(client, upstream, dead, lost, True), daemon=True
            ).start()
            threading.Thread(
                target=self._pump, args=(upstream, client, dead, lost, False), daemon=True
            ).start()

    def _pump(
        self,
        src: socket.socket,
        dst: socket.socket,
        dead: threading.Event,
        lost: threading.Event,
        requests: bool,
    ) -> None:
        try:
            while chunk := src.recv(65536):
                if requests and not dead.is_set() and self._swallows(chunk):
                    dead.set()
                if requests and not lost.is_set() and self._take(self._losses, chunk):
                    lost.set()
                if not requests and lost.is_set():
                    break  # upstream answered (so applied it): the answer is lost on the way
                if not dead.is_set():
                    dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    def __enter__(self) -> StallingProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
