"""The exception hierarchy of pulumi-d6.

Every error the client raises is a :class:`D6Error`. API errors carry what a user needs to act
(status, d6's own message, method and URL) and never a request header, so the password cannot
leak through ``str()`` or a traceback.
"""

from __future__ import annotations

import json
import reprlib
import unicodedata
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import urlsplit

from typing_extensions import NotRequired, Unpack

if TYPE_CHECKING:
    import requests

EXCERPT_CHARS = 200
SHOWN_CHARS = 40
MESSAGE_CHARS = 600


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A one-line, bounded excerpt of a response body for error messages."""
    flat = " ".join(text[: limit * 4].split())  # never split all of a huge body
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


_JOINERS = frozenset("\u200c\u200d")  # invisible, but part of emoji sequences and scripts


def printable(text: str) -> str:
    """Text d6 sends (a school's name) fit for a terminal, a table or a comment in generated
    YAML or Python: one line, with control characters (terminal escapes, NUL), surrogates,
    bidirectional overrides and other invisible format characters shown as ``?``."""
    return "".join(
        "?"
        if (unicodedata.category(c) in ("Cc", "Cf", "Cs") and c not in _JOINERS)
        or (ord(c) & 0xFFFE) == 0xFFFE  # U+FFFE, U+FFFF, ...: never characters
        else c
        for c in " ".join(text.split())
    )


_REPR = reprlib.Repr()
_REPR.maxstring = SHOWN_CHARS + 2
_REPR.maxother = SHOWN_CHARS
_REPR.maxlist = _REPR.maxdict = _REPR.maxtuple = _REPR.maxset = 4
_REPR.maxlevel = 3


def not_authorised_message(
    school_id: int, api_type_id: int, retry: str, d6_said: str | None = None
) -> str:
    """A school that has not authorised the integration, in the user's terms: d6 itself says
    only "Client has not authorised access". ``retry`` is the command to run once it has."""
    said = f" (d6: {d6_said})" if d6_said else ""
    return (
        f"School {school_id} has not authorised your integration for API type {api_type_id} "
        f"in d6+ SAMS{said}. Ask the school to authorise it in d6+, then run `{retry}` again."
    )


def shown(value: Any, limit: int = SHOWN_CHARS) -> str:
    """A user value as it may appear in a message: ``repr``-like, one line, at most ``limit`` chars.

    Values are echoed so a user can find what is wrong, but a hostile or pasted value (200 KB of
    digits, a whole file) must not become the message, and a huge int must not even be rendered
    (Python refuses ``str()`` of ints over 4300 digits).
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4 * limit:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    try:
        text = repr(value[: limit + 1]) if isinstance(value, str) else _REPR.repr(value)
    except Exception:  # a huge int inside a container, or a __repr__ that fails
        text = f"a {type(value).__name__}"
    return excerpt(text, limit)


class D6Error(Exception):
    """Base class of every pulumi-d6 error.

    ``str()`` is always one line of at most ``MESSAGE_CHARS`` characters, whatever went into it
    (d6's own messages, user values): errors end up in CI logs and gRPC metadata.
    """

    def __str__(self) -> str:
        return excerpt(self.full_message(), MESSAGE_CHARS)

    def full_message(self) -> str:
        """The message before it is bounded (subclasses compose it here)."""
        return super().__str__()


class InvalidValueError(D6Error):
    """A value a user gave (an id, a flag) is not what is expected; the message names the field."""


class ResourceError(D6Error):
    """A ClientIntegration operation failed; the message says what happened and what to do."""


class SettingsError(D6Error):
    """The configuration is missing or invalid (raised before any request is sent)."""


class MissingCredentialsError(SettingsError):
    """No username or password was found in any configuration source."""


class Exchange(TypedDict):
    """Where an API error happened, as every :class:`APIError` records it."""

    status: int | None
    method: str
    url: str
    body_excerpt: NotRequired[str]


class APIError(D6Error):
    """d6 answered with an error status, or with a body that is not what the API documents."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None,
        method: str,
        url: str,
        body_excerpt: str = "",
    ) -> None:
        self.message = message
        self.status = status
        self.method = method
        self.url = url
        self.body_excerpt = body_excerpt
        super().__init__(message)

    def full_message(self) -> str:
        where = f"{self.method} {self.url}"
        status = f"HTTP {self.status}" if self.status is not None else "no status"
        return f"{where} failed ({status}): {self.message}"


class BadRequestError(APIError):
    """400 that is neither a validation failure nor "already in that state"."""


class ValidationFailedError(BadRequestError):
    """400 "Validation Failed": ``validation_errors`` maps each field to d6's message."""

    def __init__(
        self, message: str, *, validation_errors: Mapping[str, str], **where: Unpack[Exchange]
    ) -> None:
        self.validation_errors: dict[str, str] = dict(validation_errors)
        fields = "; ".join(f"{k}: {v}" for k, v in self.validation_errors.items())
        super().__init__(f"{message} ({fields})" if fields else message, **where)


class BadCredentialsError(APIError):
    """401 for the integrator credentials themselves (wrong username or password)."""


class NotAuthorisedError(APIError):
    """401 "Client has not authorised access": the school has not authorised this integrator."""


class ForbiddenError(APIError):
    """403: the credentials are valid but the subscription does not allow this call."""


class NotFoundError(APIError):
    """404, including d6's ``route_not_found`` for an endpoint or version not enabled."""

    @property
    def route_not_found(self) -> bool:
        return is_route_not_found(self.message)


class MethodNotAllowedError(APIError):
    """405: the endpoint exists but not for this HTTP method."""


class RateLimitedError(APIError):
    """429 after the retry budget was spent."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, **where: Unpack[Exchange]
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, **where)


class ServerError(APIError):
    """5xx after the retry budget was spent."""


class InvalidResponseError(APIError):
    """A success status whose body is not the documented JSON (HTML, empty, malformed, wrong shape).

    ``body_excerpt`` keeps the first characters of what came back.
    """


class D6ConnectionError(D6Error):
    """d6 could not be reached (DNS, refused or dropped connection) after all retries."""

    def __init__(self, message: str, *, method: str, url: str) -> None:
        self.method = method
        self.url = url
        super().__init__(f"{method} {url} failed: {message}")


class D6TimeoutError(D6ConnectionError):
    """d6 did not answer within the read timeout, after all retries."""


# ------------------------------------------------------------- status mapping

ROUTE_NOT_FOUND_HINT = (
    "d6 does not serve this route for your credentials; if you are on v2, "
    "try d6:apiVersion=v1 (D6_API_VERSION=v1)"
)


NO_API_ROOT_HINT = (
    "d6:baseUrl (D6_BASE_URL) is the API root, which ends in /api "
    "(https://integrate.d6plus.co.za/api; the emulator's http://127.0.0.1:8787/api)"
)


def d6_message(body: Any) -> str:
    """d6's own message, bounded: v2 ``message``, v1 ``error_description`` (or ``error``)."""
    if isinstance(body, Mapping):
        for key in ("message", "error_description", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return excerpt(value)
    return ""


def is_route_not_found(message: str) -> bool:
    """d6's 404 for a route it does not serve to these credentials (not a missing record)."""
    return "route_not_found" in message or "route not found" in message.lower()


def _is_not_authorised(message: str) -> bool:
    lowered = message.lower().replace("authorized", "authorised")
    return "not authorised access" in lowered or "access not authorised" in lowered


def _retry_after(response: requests.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


def method_of(response: requests.Response) -> str:
    request = response.request
    return (request.method or "?") if request is not None else "?"


def error_from_response(
    response: requests.Response,
    *,
    credentials_hint: str,
    max_retries: int,
    credentials_fix: str,
    scrub: Callable[[str], str] = str,
) -> APIError:
    """The typed error for an error status, with d6's own message when it sent JSON.

    One flat mapping, kept apart from sending (as openai-python's ``_make_status_error``).
    ``credentials_hint`` says where the credentials came from, never what they are;
    ``credentials_fix`` where to correct them. ``scrub`` cleans the body before any of it is
    quoted (a server that echoes the request's headers echoes the password).
    """
    status = response.status_code
    text = scrub(response.text)
    try:
        body: Any = json.loads(text) if text.strip() else None
    except ValueError:
        body = None
    message = d6_message(body)
    if not message and text.strip():
        message = f"non-JSON error body {excerpt(text)!r}"
    elif not message:
        message = response.reason or "no body"
    common: Exchange = {
        "status": status,
        "method": method_of(response),
        "url": response.url,
        "body_excerpt": excerpt(text),
    }
    if status == 400:
        errors = body.get("validation_errors") if isinstance(body, Mapping) else None
        if isinstance(errors, Mapping) or message == "Validation Failed":
            fields = {str(k): excerpt(str(v)) for k, v in (errors or {}).items()}
            return ValidationFailedError(message, validation_errors=fields, **common)
        return BadRequestError(message, **common)
    if status == 401:
        if _is_not_authorised(message):
            return NotAuthorisedError(message, **common)
        return BadCredentialsError(
            f"d6 rejected the integrator credentials ({credentials_hint}): {message}. "
            f"{credentials_fix}",
            **common,
        )
    if status == 403:
        return ForbiddenError(message, **common)
    if status == 404:
        if is_route_not_found(message):
            hint = ROUTE_NOT_FOUND_HINT
            if "/api/" not in urlsplit(response.url or "").path:
                hint = f"{NO_API_ROOT_HINT}; else {hint}"
            message = f"{message}: {hint}"
        return NotFoundError(message, **common)
    if status == 405:
        return MethodNotAllowedError(message, **common)
    if status == 429:
        return RateLimitedError(
            f"{message} (still rate limited after {max_retries} retries)",
            retry_after=_retry_after(response),
            **common,
        )
    if status >= 500:
        return ServerError(message, **common)
    return APIError(message, **common)


__all__ = [
    "APIError",
    "BadCredentialsError",
    "BadRequestError",
    "D6ConnectionError",
    "D6Error",
    "D6TimeoutError",
    "ForbiddenError",
    "InvalidResponseError",
    "InvalidValueError",
    "MethodNotAllowedError",
    "MissingCredentialsError",
    "NotAuthorisedError",
    "NotFoundError",
    "RateLimitedError",
    "ResourceError",
    "ServerError",
    "SettingsError",
    "ValidationFailedError",
    "d6_message",
    "error_from_response",
    "excerpt",
    "method_of",
    "printable",
    "shown",
]
