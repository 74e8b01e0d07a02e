"""The emulator's request log: every /api request with its route and status.

Tests and benchmarks read the counts to prove how many API calls an operation made.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

from typing_extensions import TypedDict  # pydantic documents these (admin routes) before 3.12

MAX_ENTRIES = 10_000
MAX_COUNTERS = 1_000  # distinct (method, route, status); unknown paths are routes of their own
OTHER_ROUTES = "(other routes)"


class LogEntry(TypedDict):
    method: str
    route: str
    path: str
    query: str
    status: int
    fault: str | None
    at: float


class LogCount(TypedDict):
    method: str
    route: str
    status: int
    count: int


class RequestLogSnapshot(TypedDict):
    total: int
    counts: list[LogCount]
    entries: list[LogEntry]


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LogEntry] = []
        self._counts: Counter[tuple[str, str, int]] = Counter()
        self._total = 0

    def record(
        self, method: str, route: str, path: str, query: str, status: int, fault: str | None
    ) -> None:
        entry = LogEntry(
            method=method,
            route=route,
            path=path,
            query=query,
            status=status,
            fault=fault,
            at=time.time(),
        )
        with self._lock:
            self._total += 1
            key = (method, route, status)
            if key not in self._counts and len(self._counts) >= MAX_COUNTERS:
                key = (method, OTHER_ROUTES, status)  # a flood of made-up paths stays bounded
            self._counts[key] += 1
            self._entries.append(entry)
            if len(self._entries) > MAX_ENTRIES:
                del self._entries[: len(self._entries) - MAX_ENTRIES]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._counts.clear()
            self._total = 0

    def snapshot(self, last: int = 100) -> RequestLogSnapshot:
        with self._lock:
            counts = [
                LogCount(method=m, route=r, status=s, count=n)
                for (m, r, s), n in sorted(self._counts.items())
            ]
            entries = [LogEntry(**e) for e in self._entries[-last:]] if last > 0 else []
            return RequestLogSnapshot(total=self._total, counts=counts, entries=entries)
