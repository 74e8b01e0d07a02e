"""The state behind one emulator app: its config, store, faults, request log and rate limiter."""

from __future__ import annotations

import secrets
import threading
import time

from fastapi import Request

from .config import EmulatorConfig
from .faults import FaultBook
from .requestlog import RequestLog
from .store import Store


class TokenBucket:
    """Allows ``rate`` requests per second with a burst of ``max(1, rate)``."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity: float = max(1.0, rate)
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


class Emulator:
    """Everything one emulated d6 holds; routes find it as ``request.app.state.emulator``."""

    def __init__(self, config: EmulatorConfig, store: Store) -> None:
        self.config = config
        self.store = store
        self.faults: FaultBook = FaultBook()
        self.log: RequestLog = RequestLog()
        self.limiter: TokenBucket | None = (
            TokenBucket(config.rate_limit) if config.rate_limit else None
        )
        self.resetting = threading.Lock()  # held by the one admin reset allowed at a time

    def credentials_ok(self, request: Request) -> bool:
        user = request.headers.get("http-x-username", "")
        password = request.headers.get("http-x-password", "")
        return secrets.compare_digest(
            user.encode(), self.config.username.encode()
        ) & secrets.compare_digest(password.encode(), self.config.password.encode())


def emulator_of(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator
