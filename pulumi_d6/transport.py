"""HTTP transport: a requests Session with urllib3 retries, a shared client-side throttle, the
credentials as a requests ``AuthBase``, and the translation of answers (and of no answer) into
JSON or typed errors.

Retries live in urllib3's ``Retry`` (not a hand-written loop) so they cover connection errors,
read errors and retryable statuses alike. PATCH and POST are retried because setting an
integration's state is safe to repeat: a repeat answers "already activated", which the client
treats as success.
"""

from __future__ import annotations

import json as json_module
import logging
import os
import threading
import time
from collections.abc import Mapping
from typing import Any

import requests
from pydantic import SecretStr
from requests.adapters import HTTPAdapter
from typing_extensions import Self
from urllib3.exceptions import ReadTimeoutError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from ._version import __version__
from .errors import (
    APIError,
    D6ConnectionError,
    D6Error,
    D6TimeoutError,
    InvalidResponseError,
    error_from_response,
    excerpt,
    method_of,
)
from .settings import D6Settings

log: logging.Logger = logging.getLogger("pulumi_d6.http")

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
        self.interval: float = 1.0 / rate
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


class D6Auth(requests.auth.AuthBase):
    """d6's two credential headers, attached to each request as it is sent (python-gitlab's
    ``PrivateTokenAuth`` pattern): the session never holds them as default headers."""

    def __init__(self, username: str, password: SecretStr) -> None:
        self._username = username
        self._password = password

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["HTTP-X-USERNAME"] = self._username
        request.headers["HTTP-X-PASSWORD"] = self._password.get_secret_value()
        return request

    def __repr__(self) -> str:
        return f"D6Auth(username={self._username!r})"


class Transport:
    """Sends requests to one d6 API root and turns what comes back into JSON or typed errors.

    Everything generic about talking to d6 lives here (the session, retries, the throttle, the
    credentials, logging, redirects, transport errors, body parsing); what the endpoints mean is
    in ``dialects.py``.
    """

    def __init__(self, settings: D6Settings, *, session: requests.Session | None = None) -> None:
        self.settings = settings
        rps = settings.requests_per_second
        throttle = Throttle(rps) if rps else None
        self.session: requests.Session = session or build_session(
            settings.base_url, max_retries=settings.max_retries, throttle=throttle
        )
        self.session.auth = D6Auth(settings.username, settings.password)

    def close(self) -> None:
        self.session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> requests.Response:
        """One request (retried by urllib3); any answer comes back, no answer raises."""
        s = self.settings
        url = f"{s.base_url}{path}"
        started = time.monotonic()
        error: D6Error | None = None
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=json,
                timeout=(s.connect_timeout_seconds, s.timeout_seconds),
                allow_redirects=False,
            )
        except (requests.exceptions.RequestException, UnicodeError, ValueError) as exc:
            error = self._transport_error(exc, method, url)
        if error is not None:
            raise error  # outside the except: the transport's own exception is not chained
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s -> %d in %.1f ms (attempts: %d) headers=%s",
                method,
                response.url,
                response.status_code,
                (time.monotonic() - started) * 1000,
                attempts_of(response),
                redact_headers(dict(response.request.headers)),
            )
        if 300 <= response.status_code < 400:
            location = response.headers.get("Location", "?")
            raise self.invalid(
                response,
                f"unexpected redirect to {location}; check d6:baseUrl (redirects are not followed)",
            )
        return response

    # ------------------------------------------------------------- bodies

    def error_for(self, response: requests.Response) -> APIError:
        return error_from_response(
            response,
            credentials_hint=self.settings.describe_credentials(),
            credentials_fix=self.settings.how_to_correct_credentials(),
            max_retries=self.settings.max_retries,
        )

    def success_json(self, response: requests.Response) -> Any:
        """The JSON body of a 2xx answer; an error status raises its typed error."""
        if not 200 <= response.status_code < 300:
            raise self.error_for(response)
        return self.expect_json(response)

    def optional_json(self, response: requests.Response) -> Any:
        """Parsed JSON, or None for an empty body (v1's 204, some 200s); garbage raises."""
        if not response.content.strip():
            return None
        return self.expect_json(response)

    def expect_json(self, response: requests.Response) -> Any:
        text = response.text
        if not text.strip():
            raise self.invalid(response, "empty body where JSON was expected")
        try:
            return json_module.loads(text)
        except ValueError:
            kind = "an HTML page" if text.lstrip().startswith("<") else "malformed JSON"
            error = self.invalid(response, f"{kind} where JSON was expected")
        raise error

    @staticmethod
    def invalid(response: requests.Response, what: str) -> InvalidResponseError:
        return InvalidResponseError(
            f"{what}: {excerpt(response.text)!r}" if response.text.strip() else what,
            status=response.status_code,
            method=method_of(response),
            url=response.url,
            body_excerpt=excerpt(response.text),
        )

    # ------------------------------------------------------------- no answer

    def _transport_error(self, exc: Exception, method: str, url: str) -> D6Error:
        """A typed error for a request that got no answer. Text from the transport is copied only
        for network failures, and scrubbed: other failures (a header requests refuses) may quote
        a header value, and header values carry the credentials."""
        s = self.settings
        if not isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
            return D6Error(
                f"{method} {url} could not be sent ({type(exc).__name__}); check d6:baseUrl, "
                f"d6:username and d6:password ({s.describe_credentials()})"
            )
        tries = f"{s.max_retries + 1} attempt(s)"
        if isinstance(exc, requests.exceptions.ReadTimeout) or _caused_by_read_timeout(exc):
            return D6TimeoutError(
                f"no answer within d6:timeoutSeconds={s.timeout_seconds:g}s after {tries}",
                method=method,
                url=url,
            )
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return D6ConnectionError(
                f"could not connect within {s.connect_timeout_seconds:g}s after {tries}",
                method=method,
                url=url,
            )
        reason = s.scrub(_root_reason(exc))
        source = s.source_of("base_url")
        return D6ConnectionError(
            f"could not reach d6 at {s.base_url} after {tries}: {reason}; check that d6 (or the "
            f"emulator) is up there, or the base URL (from {source}; set with d6:baseUrl or "
            "D6_BASE_URL)",
            method=method,
            url=url,
        )


def _caused_by_read_timeout(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: Any = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ReadTimeoutError | requests.exceptions.ReadTimeout):
            return True
        nested = getattr(current, "reason", None)
        if nested is None and getattr(current, "args", None):
            nested = current.args[0] if isinstance(current.args[0], BaseException) else None
        current = nested
    return False


def _root_reason(exc: BaseException) -> str:
    """The operating system's words for the failure ("Connection refused", "Name or service not
    known"), not the transport library's wrapping (its class names, host and port tuples)."""
    current: Any = exc
    for _ in range(8):
        if isinstance(current, OSError) and current.strerror:
            return excerpt(current.strerror, 160)
        nested = getattr(current, "reason", None) or current.__cause__
        if nested is None and current.args and isinstance(current.args[0], BaseException):
            nested = current.args[0]
        if not isinstance(nested, BaseException):
            break
        current = nested
    text = str(current).rpartition("): ")[2] or type(current).__name__
    return excerpt(text, 160)
