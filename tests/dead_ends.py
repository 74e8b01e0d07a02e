"""Loopback addresses that fail the same way every time, held by the test until it is done.

A port bound and then released may be taken by anyone before it is used, and a server that
answers "late" only times a client out if the machine is not busier than the test assumed.
These sockets stay open for the whole ``with`` block, so neither can happen.
"""

from __future__ import annotations

import socket
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
