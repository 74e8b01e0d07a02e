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


class StallingProxy:
    """A loopback TCP relay to ``upstream`` that can swallow the next requests of a method.

    ``stall("PATCH")`` makes the next PATCH (on whatever connection it comes) vanish: it never
    reaches upstream and that connection never answers again, so the client's read timeout
    fires whatever the machine's load, and its retry (a new connection) goes through.
    ``lose_answer("PATCH")`` delivers the next PATCH but not its answer: upstream applies it,
    the client times out and retries, and the retry hears "already done".
    """

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._lock = threading.Lock()
        self._stalls: dict[str, int] = {}
        self._lost_answers: dict[str, int] = {}
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
            self._lost_answers[method] = self._lost_answers.get(method, 0) + count

    def clear(self) -> None:
        with self._lock:
            self._stalls.clear()
            self._lost_answers.clear()

    def _swallows(self, chunk: bytes) -> bool:
        return self._take(self._stalls, chunk)

    def _take(self, book: dict[str, int], chunk: bytes) -> bool:
        method = chunk.split(b" ", 1)[0].decode("latin-1")
        with self._lock:
            if book.get(method, 0) <= 0:
                return False
            book[method] -= 1
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
            dead, deaf = threading.Event(), threading.Event()
            threading.Thread(
                target=self._pump, args=(client, upstream, dead, deaf, True), daemon=True
            ).start()
            threading.Thread(
                target=self._pump, args=(upstream, client, dead, deaf, False), daemon=True
            ).start()

    def _pump(
        self,
        src: socket.socket,
        dst: socket.socket,
        dead: threading.Event,
        deaf: threading.Event,
        requests: bool,
    ) -> None:
        """``dead``: nothing more passes either way; ``deaf``: requests pass, answers do not."""
        try:
            while chunk := src.recv(65536):
                if requests and not dead.is_set() and self._swallows(chunk):
                    dead.set()
                elif requests and not deaf.is_set() and self._take(self._lost_answers, chunk):
                    deaf.set()
                if not dead.is_set() and (requests or not deaf.is_set()):
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
