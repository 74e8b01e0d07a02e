"""Injected faults: what the next K requests to a route get instead of a normal answer.

Tests and benchmarks use these to prove the client's retries and the provider's consistency
against the failures a real network and a real d6 produce.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

MAX_PENDING = 1_000


class FaultKind(str, Enum):
    STATUS = "status"  # a d6-style JSON error with this status (and optional Retry-After)
    HTML = "html"  # an HTML error page, as a gateway in front of d6 would send
    MALFORMED_JSON = "malformed_json"  # 200 with a truncated JSON body
    EMPTY_BODY = "empty_body"  # 200 with no body at all
    DELAY = "delay"  # wait delay_seconds, then answer normally (longer than a client timeout)
    DROP = "drop"  # close the connection without answering
    EMPTY_LISTING = "empty_listing"  # a listing that says "nothing" by mistake (v2: 200, v1: 404)


@dataclass
class Fault:
    kind: FaultKind
    route: str = "*"  # a route template such as /api/v2/settings/clientintegrations, or *
    method: str = "*"
    count: int = 1
    status: int = 503
    retry_after: str | None = None
    delay_seconds: float = 0.0
    fired: int = field(default=0)

    def matches(self, method: str, route: str) -> bool:
        return self.method in ("*", method) and self.route in ("*", route)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        data["remaining"] = self.count - self.fired
        return data


class FaultBook:
    """Pending faults, consumed first-in first-out by matching requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> bool:
        """False (and nothing added) when ``MAX_PENDING`` faults are already waiting."""
        with self._lock:
            if len(self._faults) >= MAX_PENDING:
                return False
            self._faults.append(fault)
            return True

    def take(self, method: str, route: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, route):
                    fault.fired += 1
                    if fault.fired >= fault.count:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.as_dict() for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
