"""The event loops one mocked Pulumi run uses, all closed when it ends, and quiet about the
error the run already raised.

Pulumi's mock monitor makes an event loop in each executor thread it answers in
(``_ensure_event_loop``) and never closes it. Left to the garbage collector, such a loop may be
collected after its own self-pipe socket, and its ``__del__`` then prints ``ValueError: Invalid
file descriptor: -1`` after a failed run. And every output of a resource whose registration
failed holds that error, unread: each would print "Future exception was never retrieved" for an
error the caller has already been given.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any


class RunLoops:
    """The run's own loop (this thread's) and one per executor thread, made and closed here."""

    def __init__(self) -> None:
        self.main = asyncio.new_event_loop()
        self.main.set_exception_handler(self._handle)
        self._threads: list[asyncio.AbstractEventLoop] = []
        self._local = threading.local()
        self._lock = threading.Lock()
        self.raised: BaseException | None = None
        """The error the run raised to its caller: not reported again."""

    def for_this_thread(self) -> None:
        """Give an executor thread its loop before Pulumi's monitor would make one of its own."""
        if getattr(self._local, "loop", None) is None:
            loop = asyncio.new_event_loop()
            loop.set_exception_handler(self._handle)
            asyncio.set_event_loop(loop)
            self._local.loop = loop
            with self._lock:
                self._threads.append(loop)

    def close(self) -> None:
        asyncio.set_event_loop(None)
        self.main.close()
        with self._lock:
            for loop in self._threads:
                loop.close()

    def _handle(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if self.raised is not None and context.get("exception") is self.raised:
            return
        loop.default_exception_handler(context)
