"""Typed records of the d6 API, normalised across v1 and v2.

v1 sends ids as strings and calls the school ``school_login_id``; v2 sends integers and calls it
``school_id``; both send ``activated_by_integrator`` as "Yes"/"No". Callers only ever see ints
and bools.
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator


def ascii_digits(text: str) -> bool:
    """Only 0-9 (``str.isdigit`` also accepts other scripts' digits and superscripts)."""
    stripped = text.strip()
    return stripped.isascii() and stripped.isdigit()


def whole_number(value: Any) -> int | None:
    """An int from an int, an integral float (the wire's doubles) or ASCII digits; else None.

    Booleans are not numbers here, although Python says ``True == 1``.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and ascii_digits(value):
        return int(value.strip())
    return None


def _strict_int(value: Any) -> int:
    number = whole_number(value)
    if number is None:
        raise ValueError(f"expected an integer id, got {value!r}")
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
    raise ValueError(f"expected 'Yes' or 'No', got {value!r}")


class ClientIntegrationInfo(BaseModel):
    """One (school, API type) integration that a school has authorised."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

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

    model_config = ConfigDict(frozen=True, extra="ignore")

    limit: int | None = None
    max_allowed_limit: int | None = None
    next_cursor: str | None = None


class Page(BaseModel):
    """One page of Get Client Integrations."""

    model_config = ConfigDict(frozen=True)

    data: list[ClientIntegrationInfo]
    meta: PageMeta = PageMeta()


class StateChange(BaseModel):
    """Outcome of Change Client Integration State.

    ``changed`` is False when d6 said the integration was already in that state (v2 400
    "Integration already ..."). v1 does not say, so a v1 success reports ``changed=True``.
    ``integration`` is d6's record when the response carried one (v2 does; v1's 204 does not).
    """

    model_config = ConfigDict(frozen=True)

    school_id: int
    api_type_id: int
    active: bool
    changed: bool
    message: str = ""
    integration: ClientIntegrationInfo | None = None
