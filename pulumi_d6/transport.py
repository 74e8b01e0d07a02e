"""HTTP transport: a requests Session with urllib3 retries and a shared client-side throttle.

Retries live in urllib3's ``Retry`` (not a hand-written loop) so they cover connection errors,
read errors and retryable statuses alike. PATCH and POST are retried because setting an
integration's state is safe to repeat: a repeat answers "already activated", which the client
treats as success.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from typing_extensions import Self
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from ._version import __version__

log = logging.getLogger("pulumi_d6.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_METHODS = frozenset({"GET", "PATCH", "POST"})
BACKOFF_FACTOR = 0.25
BACKOFF_MAX = 8.0
BACKOFF_JITTER = 0.25
RETRY_AFTER_CAP = 60
CREDENTIAL_HEADERS = frozenset({"http-x-username", "http-x-password"})
USER_AGENT = f"pulumi-d6/{__version__}"


class Throttle:
    """A requests-per-second limit shared by every thread that uses one client.

    Each caller reserves the next free slot under a lock and sleeps outside it, so threads are
    spaced ``1/rate`` apart without holding the lock while waiting.
    """

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        delay = slot - now
        if delay > 0:
            time.sleep(delay)


class D6Retry(Retry):
    """urllib3 Retry that also waits for the throttle before each retry and logs each retry."""

    throttle: Throttle | None = None

    def new(self, **kw: Any) -> Self:
        fresh = super().new(**kw)
        fresh.throttle = self.throttle
        return fresh

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        super().sleep(response)
        if self.throttle is not None:
            self.throttle.acquire()

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Self:
        cause = f"HTTP {response.status}" if response is not None else type(error).__name__
        log.debug("retrying %s %s after %s (retry %d)", method, url, cause, len(self.history) + 1)
        return super().increment(method, url, response, error, _pool, _stacktrace)


class ThrottledAdapter(HTTPAdapter):
    """Waits for the throttle before the first attempt of every request."""

    def __init__(self, *, throttle: Throttle | None, **kwargs: Any) -> None:
        self.throttle = throttle
        super().__init__(**kwargs)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if self.throttle is not None:
            self.throttle.acquire()
        return super().send(request, **kwargs)


def build_retry(max_retries: int, throttle: Throttle | None) -> D6Retry:
    retry = D6Retry(
        total=max_retries,
        connect=max_retries,
        read=max_retries,
        status=max_retries,
        other=max_retries,
        redirect=0,
        allowed_methods=RETRY_METHODS,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=BACKOFF_FACTOR,
        backoff_max=BACKOFF_MAX,
        backoff_jitter=BACKOFF_JITTER,
        respect_retry_after_header=True,
        retry_after_max=RETRY_AFTER_CAP,
        raise_on_status=False,
        raise_on_redirect=False,
    )
    retry.throttle = throttle
    return retry


def build_session(
    base_url: str, *, max_retries: int, throttle: Throttle | None, pool_size: int = 16
) -> requests.Session:
    """A session for one API root.

    Proxy variables (HTTPS_PROXY, NO_PROXY, ...) and REQUESTS_CA_BUNDLE are read once here rather
    than on every request (requests' ``trust_env`` rescans the environment and ~/.netrc each
    time, which cost about 0.5 ms a request, and a ~/.netrc entry must not add credentials).
    """
    session = requests.Session()
    session.trust_env = False
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    adapter = ThrottledAdapter(
        throttle=throttle,
        max_retries=build_retry(max_retries, throttle),
        pool_connections=pool_size,
        pool_maxsize=pool_size,
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Accept"] = "application/json"
    return session


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers fit for a log line: credential headers replaced by ``<redacted>``."""
    return {k: ("<redacted>" if k.lower() in CREDENTIAL_HEADERS else v) for k, v in headers.items()}


def attempts_of(response: requests.Response) -> int:
    """How many attempts urllib3 made for this response (1 when it was not retried)."""
    retries = getattr(response.raw, "retries", None)
    history = getattr(retries, "history", ()) or ()
    return len(history) + 1
