"""Typed records of the d6 API, normalised across v1 and v2.

v1 sends ids as strings and calls the school ``school_login_id``; v2 sends integers and calls it
``school_id``; both send ``activated_by_integrator`` as "Yes"/"No". Callers only ever see ints
and bools.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from .errors import D6Error, InvalidValueError, shown

MAX_ID = 2**53
"""Ids must stay below this: the Pulumi engine carries numbers as doubles, and from 2**53 up a
double cannot hold every whole number (2**53 + 1 arrives as 2**53: another school)."""
_MAX_ID_DIGITS = len(str(MAX_ID))
WHOLE_NUMBER = "a whole number greater than 0"
TOO_LARGE = (
    "ids from 2**53 (9007199254740992) up cannot be carried exactly, because the Pulumi engine "
    "sends numbers as doubles, so it could name another school"
)


def described(value: Any) -> str:
    """How a rejected value is shown, in the user's terms (no Python type names), bounded."""
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, float) and value.is_integer():
        return shown(int(value))
    return shown(value)


def _whole(value: Any) -> int | None:
    """The whole number in ``value``, converting digit strings only when they are short enough."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit():
            digits = text.lstrip("0") or "0"
            # Length first: int() of thousands of digits is slow, and past 4300 it raises.
            return MAX_ID if len(digits) > _MAX_ID_DIGITS else int(digits)
    return None


def parse_id(value: Any, field: str, error: type[D6Error] = InvalidValueError) -> int:
    """A d6 id: a whole number with 0 < n < 2**53, from an int, an integral float (the wire's
    doubles) or ASCII digits (stack config). Anything else raises ``error`` naming ``field``."""
    if value is None:
        raise error(f"{field} is required: must be {WHOLE_NUMBER}")
    number = _whole(value)
    if number is None or number <= 0:
        raise error(f"{field} must be {WHOLE_NUMBER}, got {described(value)}")
    if number >= MAX_ID:
        raise error(
            f"{field} must be {WHOLE_NUMBER} and below 2**53, got {described(value)}: {TOO_LARGE}"
        )
    return number


def parse_flag(
    value: Any, field: str, default: bool, error: type[D6Error] = InvalidValueError
) -> bool:
    """A boolean; "true"/"false" (any case) from config accepted; None means ``default``."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise error(f"{field} must be true or false, got {described(value)}")


def resource_id(school_id: int, api_type_id: int) -> str:
    """The ClientIntegration id, ``"1000/8"``; :func:`parse_resource_id` reads it back."""
    return f"{school_id}/{api_type_id}"


def parse_resource_id(id_: str, error: type[D6Error] = InvalidValueError) -> tuple[int, int]:
    """``"1000/8"`` to ``(1000, 8)``, bounded like inputs so that a hostile id never reaches d6."""
    short = isinstance(id_, str) and len(id_) <= 2 * _MAX_ID_DIGITS + 1
    parts = id_.split("/", 2) if short else []
    if len(parts) == 2 and all(p.isascii() and p.isdigit() for p in parts):
        try:
            return parse_id(parts[0], "school_id"), parse_id(parts[1], "api_type_id")
        except InvalidValueError as exc:
            reason = f": {exc}"
    else:
        reason = ""
    raise error(
        f"invalid ClientIntegration id {shown(id_)}: expected '<school_id>/<api_type_id>', e.g. "
        f"'1000/8'{reason}"
    )


def _strict_int(value: Any) -> int:
    number = _whole(value)
    if number is None:
        raise ValueError(f"expected an integer id, got {shown(value)}")
    if number >= MAX_ID:
        raise ValueError(f"id {shown(value)} is not below 2**53: {TOO_LARGE}")
    return number


def parse_yes_no(value: Any) -> bool:
    """d6's ``activated_by_integrator`` ("Yes"/"No"), tolerant of real booleans and 1/0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("yes", "true", "1"):
            return True
        if lowered in ("no", "false", "0"):
            return False
    raise ValueError(f"expected 'Yes' or 'No', got {shown(value)}")


class ClientIntegrationInfo(BaseModel):
    """One (school, API type) integration that a school has authorised."""

    model_config: ClassVar[ConfigDict] = ConfigDict(
        frozen=True, populate_by_name=True, extra="ignore"
    )

    school_id: int = Field(validation_alias=AliasChoices("school_id", "school_login_id"))
    api_type_id: int
    active: bool = Field(validation_alias=AliasChoices("activated_by_integrator", "active"))
    school_name: str = ""
    admin_email_address: str = ""
    telephone_calling_code: str = ""
    telephone_number: str = ""
    api_type: str = ""

    @field_validator("school_id", "api_type_id", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> int:
        return _strict_int(value)

    @field_validator("active", mode="before")
    @classmethod
    def _active(cls, value: Any) -> bool:
        return parse_yes_no(value)

    @field_validator(
        "school_name",
        "admin_email_address",
        "telephone_calling_code",
        "telephone_number",
        "api_type",
        mode="before",
    )
    @classmethod
    def _text(cls, value: Any) -> str:
        return "" if value is None else str(value)

    @property
    def key(self) -> tuple[int, int]:
        return (self.school_id, self.api_type_id)


class PageMeta(BaseModel):
    """v2 cursor pagination metadata; ``next_cursor`` is absent on the last page."""

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True, extra="ignore")

    limit: int | None = None
    max_allowed_limit: int | None = None
    next_cursor: str | None = None


class Page(BaseModel):
    """One page of Get Client Integrations."""

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)

    data: list[ClientIntegrationInfo]
    meta: PageMeta = PageMeta()


class StateChange(BaseModel):
    """Outcome of Change Client Integration State.

    ``changed`` is False when d6 said the integration was already in that state (v2 400
    "Integration already ..."). v1 does not say, so a v1 success reports ``changed=True``.
    ``integration`` is d6's record when the response carried one (v2 does; v1's 204 does not).
    ``attempts`` is how many times the request was sent (retries included): after more than one,
    "already" may be the answer to this change's own earlier attempt, whose answer was lost.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)

    school_id: int
    api_type_id: int
    active: bool
    changed: bool
    message: str = ""
    integration: ClientIntegrationInfo | None = None
    attempts: int = 1
