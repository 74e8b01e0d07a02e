"""The typed d6 Integrate API client (no Pulumi imports).

Everything the provider, the lookup and the CLI do reaches d6 through :class:`D6Client`. It lists
client integrations (following every page), reads one, and sets an integration's state, in v2 or
v1 mode, and maps every documented (and undocumented) answer to a typed result or a typed error.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any, ClassVar

import requests
from pydantic import ValidationError as PydanticValidationError
from urllib3.exceptions import ReadTimeoutError

from .errors import (
    APIError,
    BadCredentialsError,
    BadRequestError,
    D6ConnectionError,
    D6Error,
    D6TimeoutError,
    ForbiddenError,
    InvalidResponseError,
    MethodNotAllowedError,
    NotAuthorisedError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ValidationFailedError,
    excerpt,
)
from .models import ClientIntegrationInfo, Page, StateChange
from .settings import D6Settings, resolve_settings
from .transport import Throttle, attempts_of, build_session, redact_headers

log = logging.getLogger("pulumi_d6.client")

V2_INTEGRATIONS = "/v2/settings/clientintegrations"
V1_CLIENTS = "/v1/settings/clients"
ROUTE_NOT_FOUND_HINT = (
    "d6 does not serve this route for your credentials; if you are on v2, "
    "try d6:apiVersion=v1 (D6_API_VERSION=v1)"
)

_NO_BODY = object()


def _is_not_authorised(message: str) -> bool:
    lowered = message.lower().replace("authorized", "authorised")
    return "not authorised access" in lowered or "access not authorised" in lowered


def _error_message(body: Any) -> str:
    """d6's own message: v2 ``message``, v1 ``error_description`` (or ``error``)."""
    if isinstance(body, Mapping):
        for key in ("message", "error_description", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return excerpt(value)
    return ""


class D6Client:
    """A thread-safe client for the d6 Integrate client-integration endpoints.

    Build it from :class:`~pulumi_d6.settings.D6Settings`, or with :meth:`from_env` /
    :meth:`from_settings`. One instance can be shared by many threads.
    """

    # Which method v2 change-state takes, per API root, learnt once per process (PATCH, or POST
    # after a 405). The docs disagree with themselves; see reference/d6-api.md §6.1.
    _state_method: ClassVar[dict[str, str]] = {}
    _state_method_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, settings: D6Settings, *, session: requests.Session | None = None) -> None:
        self.settings = settings
        rps = settings.requests_per_second
        self._throttle = Throttle(rps) if rps else None
        self._session = session or build_session(
            settings.base_url, max_retries=settings.max_retries, throttle=self._throttle
        )
        self._max_page_size: int | None = None

    @classmethod
    def from_settings(
        cls,
        explicit: Mapping[str, Any] | None = None,
        *,
        config: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> D6Client:
        """Resolve settings (explicit, stack config, environment, defaults) and build a client."""
        return cls(resolve_settings(explicit, config=config, env=env))

    @classmethod
    def from_env(cls, **explicit: Any) -> D6Client:
        """A client from keyword arguments and the ``D6_*`` environment."""
        return cls.from_settings(explicit)

    @classmethod
    def forget_learnt_methods(cls) -> None:
        """Forget the PATCH-to-POST fallbacks learnt so far (tests use this)."""
        with cls._state_method_lock:
            cls._state_method.clear()

    def __repr__(self) -> str:
        s = self.settings
        return (
            f"D6Client(base_url={s.base_url!r}, api_version={s.api_version!r}, "
            f"username={s.username!r})"
        )

    def __enter__(self) -> D6Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    # ---------------------------------------------------------------- listing

    def iter_pages(
        self,
        school_id: int | None = None,
        api_type_id: int | None = None,
        *,
        page_size: int | None = None,
        reverse_order: bool = False,
    ) -> Iterator[Page]:
        """v2 pages of Get Client Integrations, following ``next_cursor`` until it is absent.

        After the first page the client asks for ``max_allowed_limit`` records per page (unless
        ``page_size`` is given), so a long listing takes as few requests as the server allows.
        """
        filters: dict[str, Any] = {}
        if school_id is not None:
            filters["school_id"] = school_id
        if api_type_id is not None:
            filters["api_type_id"] = api_type_id
        if reverse_order:
            filters["reverse_order"] = 1
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            params = dict(filters)
            limit = page_size or self._max_page_size
            if limit:
                params["limit"] = limit
            if cursor is not None:
                params["cursor"] = cursor
            response = self._request("GET", V2_INTEGRATIONS, params=params)
            body = self._success_json(response)
            try:
                page = Page.model_validate(body)
            except PydanticValidationError as exc:
                raise self._invalid(
                    response, f"not a page of client integrations ({exc.error_count()} problems)"
                ) from None
            if page.meta.max_allowed_limit and page_size is None:
                self._max_page_size = page.meta.max_allowed_limit
            yield page
            cursor = page.meta.next_cursor
            if not cursor:
                return
            if cursor in seen:
                raise self._invalid(response, f"next_cursor {cursor!r} repeats an earlier page")
            seen.add(cursor)

    def iter_integrations(
        self,
        school_id: int | None = None,
        api_type_id: int | None = None,
        *,
        page_size: int | None = None,
        reverse_order: bool = False,
    ) -> Iterator[ClientIntegrationInfo]:
        """Every authorised integration, optionally filtered, across all pages."""
        if self.settings.api_version == "v1":
            records: Iterator[ClientIntegrationInfo] = iter(self._v1_list(school_id))
        else:
            records = (
                record
                for page in self.iter_pages(
                    school_id, api_type_id, page_size=page_size, reverse_order=reverse_order
                )
                for record in page.data
            )
        for record in records:
            if school_id is not None and record.school_id != school_id:
                continue
            if api_type_id is not None and record.api_type_id != api_type_id:
                continue
            yield record

    def list_integrations(
        self, school_id: int | None = None, api_type_id: int | None = None
    ) -> list[ClientIntegrationInfo]:
        """:meth:`iter_integrations` as a list."""
        return list(self.iter_integrations(school_id, api_type_id))

    def get_integration(self, school_id: int, api_type_id: int) -> ClientIntegrationInfo | None:
        """The integration for (school, API type), or None when the school has not authorised it."""
        for record in self.iter_integrations(school_id, api_type_id):
            return record
        return None

    def _v1_list(self, school_id: int | None) -> list[ClientIntegrationInfo]:
        path = V1_CLIENTS if school_id is None else f"{V1_CLIENTS}/{school_id}"
        response = self._request("GET", path)
        if response.status_code == 404:
            error = self._error_for(response)
            if isinstance(error, NotFoundError) and not error.route_not_found:
                return []  # v1 answers 404 when no (matching) school has authorised you
            raise error
        body = self._success_json(response)
        items = body.get("data") if isinstance(body, Mapping) else body
        if not isinstance(items, list):
            raise self._invalid(response, "expected a JSON array of clients")
        try:
            return [ClientIntegrationInfo.model_validate(item) for item in items]
        except PydanticValidationError as exc:
            raise self._invalid(
                response, f"not a list of clients ({exc.error_count()} problems)"
            ) from None

    # ----------------------------------------------------------- state change

    def set_state(self, school_id: int, api_type_id: int, active: bool) -> StateChange:
        """Activate (``active=True``) or deactivate one integration.

        "Integration already activated/deactivated" is not an error: it comes back as
        ``changed=False``. A school that has not authorised you raises
        :class:`~pulumi_d6.errors.NotAuthorisedError`.
        """
        if self.settings.api_version == "v1":
            response = self._request(
                "PATCH",
                f"{V1_CLIENTS}/{school_id}",
                json={"api_type_id": api_type_id, "state": 1 if active else 0},
            )
        else:
            response = self._v2_set_state(school_id, api_type_id, active)
        return self._state_change(response, school_id, api_type_id, active)

    def activate(self, school_id: int, api_type_id: int) -> StateChange:
        return self.set_state(school_id, api_type_id, True)

    def deactivate(self, school_id: int, api_type_id: int) -> StateChange:
        return self.set_state(school_id, api_type_id, False)

    def _v2_set_state(self, school_id: int, api_type_id: int, active: bool) -> requests.Response:
        payload = {"school_id": school_id, "api_type_id": api_type_id, "state": active}
        base = self.settings.base_url
        with self._state_method_lock:
            method = self._state_method.get(base, "PATCH")
        response = self._request(method, V2_INTEGRATIONS, json=payload)
        if response.status_code == 405 and method == "PATCH":
            log.info("PATCH %s%s answered 405; using POST from now on", base, V2_INTEGRATIONS)
            with self._state_method_lock:
                self._state_method[base] = "POST"
            response = self._request("POST", V2_INTEGRATIONS, json=payload)
        return response

    def _state_change(
        self, response: requests.Response, school_id: int, api_type_id: int, active: bool
    ) -> StateChange:
        status = response.status_code
        body: Any = None
        if 200 <= status < 300:
            # v1 answers 204 with no body; v2 documents a JSON body, and an empty or garbled one
            # leaves it unknown whether the change happened, so it must not pass for success.
            v1 = self.settings.api_version == "v1"
            body = self._optional_json(response) if v1 else self._expect_json(response)
            changed = True
        elif status == 400:
            body = self._optional_json(response)
            message = _error_message(body)
            if not message.lower().startswith("integration already"):
                raise self._error_for(response)
            changed = False
            if "deactivated" in message.lower():
                active = False
            elif "activated" in message.lower():
                active = True
        else:
            raise self._error_for(response)
        integration = None
        data = body.get("data") if isinstance(body, Mapping) else None
        if isinstance(data, Mapping):
            try:
                integration = ClientIntegrationInfo.model_validate(data)
            except PydanticValidationError:
                log.warning("ignoring an unreadable 'data' record in the state-change response")
        return StateChange(
            school_id=school_id,
            api_type_id=api_type_id,
            active=active,
            changed=changed,
            message=_error_message(body),
            integration=integration,
        )

    # ------------------------------------------------------------- transport

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> requests.Response:
        s = self.settings
        url = f"{s.base_url}{path}"
        headers = {
            "HTTP-X-USERNAME": s.username,
            "HTTP-X-PASSWORD": s.password.get_secret_value(),
        }
        started = time.monotonic()
        error: D6Error | None = None
        try:
            response = self._session.request(
                method,
                url,
                params=params,
                json=json,
                headers=headers,
                timeout=(s.connect_timeout_seconds, s.timeout_seconds),
                allow_redirects=False,
            )
        except (requests.exceptions.RequestException, UnicodeError, ValueError) as exc:
            error = self._transport_error(exc, method, url)
        if error is not None:
            raise error  # outside the except: the transport's own exception is not chained
        elapsed_ms = (time.monotonic() - started) * 1000
        if log.isEnabledFor(logging.DEBUG):
            sent = response.request.headers if response.request is not None else headers
            log.debug(
                "%s %s -> %d in %.1f ms (attempts: %d) headers=%s",
                method,
                response.url,
                response.status_code,
                elapsed_ms,
                attempts_of(response),
                redact_headers(dict(sent)),
            )
        if 300 <= response.status_code < 400:
            location = response.headers.get("Location", "?")
            raise self._invalid(
                response,
                f"unexpected redirect to {location}; check d6:baseUrl (redirects are not followed)",
            )
        return response

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
        return D6ConnectionError(
            f"could not reach d6 at {s.base_url} after {tries}: {reason}", method=method, url=url
        )

    def _success_json(self, response: requests.Response) -> Any:
        """The JSON body of a 2xx answer; an error status raises its typed error."""
        if not 200 <= response.status_code < 300:
            raise self._error_for(response)
        return self._expect_json(response)

    def _optional_json(self, response: requests.Response) -> Any:
        """Parsed JSON, or None for an empty body (v1's 204, some 200s); garbage raises."""
        if not response.content.strip():
            return None
        return self._expect_json(response)

    def _expect_json(self, response: requests.Response) -> Any:
        text = response.text
        if not text.strip():
            raise self._invalid(response, "empty body where JSON was expected")
        try:
            return json.loads(text)
        except ValueError:
            kind = "an HTML page" if text.lstrip().startswith("<") else "malformed JSON"
            raise self._invalid(response, f"{kind} where JSON was expected") from None

    def _invalid(self, response: requests.Response, what: str) -> InvalidResponseError:
        return InvalidResponseError(
            f"{what}: {excerpt(response.text)!r}" if response.text.strip() else what,
            status=response.status_code,
            method=_method_of(response),
            url=response.url,
            body_excerpt=excerpt(response.text),
        )

    def _error_for(self, response: requests.Response) -> APIError:
        """The typed error for an error status, with d6's own message when it sent JSON."""
        status = response.status_code
        method = _method_of(response)
        url = response.url
        text = response.text
        try:
            body: Any = json.loads(text) if text.strip() else None
        except ValueError:
            body = None
        message = _error_message(body)
        if not message:
            message = (
                f"non-JSON error body {excerpt(text)!r}"
                if text.strip()
                else (response.reason or "no body")
            )
        common: dict[str, Any] = {
            "status": status,
            "method": method,
            "url": url,
            "body_excerpt": excerpt(text),
        }
        if status == 400:
            errors = body.get("validation_errors") if isinstance(body, Mapping) else None
            if isinstance(errors, Mapping) or message == "Validation Failed":
                fields = {str(k): str(v) for k, v in (errors or {}).items()}
                return ValidationFailedError(message, validation_errors=fields, **common)
            return BadRequestError(message, **common)
        if status == 401:
            if _is_not_authorised(message):
                return NotAuthorisedError(message, **common)
            used = self.settings.describe_credentials()
            return BadCredentialsError(
                f"{message} (check the integrator credentials: {used})",
                **common,
            )
        if status == 403:
            return ForbiddenError(message, **common)
        if status == 404:
            error = NotFoundError(message, **common)
            if error.route_not_found:
                error = NotFoundError(f"{message}: {ROUTE_NOT_FOUND_HINT}", **common)
            return error
        if status == 405:
            return MethodNotAllowedError(message, **common)
        if status == 429:
            return RateLimitedError(
                f"{message} (still rate limited after {self.settings.max_retries} retries)",
                retry_after=_retry_after(response),
                **common,
            )
        if status >= 500:
            return ServerError(message, **common)
        return APIError(message, **common)


def _method_of(response: requests.Response) -> str:
    request = response.request
    return (request.method or "?") if request is not None else "?"


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


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
    current: Any = exc
    for _ in range(6):
        nested = getattr(current, "reason", None)
        if nested is None and current.args and isinstance(current.args[0], BaseException):
            nested = current.args[0]
        if nested is None:
            break
        current = nested
    text = str(current) or type(current).__name__
    return excerpt(text, 160)


__all__ = ["D6Client"]
