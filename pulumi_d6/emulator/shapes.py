"""Typed shapes of every body the emulator reads and answers, from which its OpenAPI schema is made.

The d6 request models describe what d6 accepts on the wire (docs/d6-api.md), including its
Laravel leniency: an id may be a JSON integer or a digit string, ``state`` may be ``true``,
``false``, ``1``, ``0``, ``"1"`` or ``"0"``. The handlers parse requests with the rules in
``wire.py``; these models state the same rules for the schema, and the fuzz tier
(tests/fuzz) checks that the two agree. Only pydantic is imported here, so the admin client
(``admin.py``) can share the admin shapes without FastAPI.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from typing_extensions import TypedDict

from .faults import FaultKind
from .requestlog import MAX_ENTRIES
from .store import MAX_ID, MAX_SEED

ID_PATTERN = r"^0*[1-9][0-9]{0,14}$"  # a wire id as text: up to 15 digits (below MAX_ID)
MAX_TEXT = 200
MAX_FAULT_COUNT = 10_000
MAX_FAULT_DELAY = 60.0

_ID_DOC = "A positive whole number: a JSON integer, or its digits as a string (Laravel's rule)."
WIRE_ID_SCHEMA: dict[str, Any] = {
    "description": _ID_DOC,
    "anyOf": [
        {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        {"type": "string", "pattern": ID_PATTERN},
    ],
}
WIRE_BOOL_SCHEMA: dict[str, Any] = {
    "description": 'Laravel\'s boolean rule: true, false, 1, 0, "1" or "0" (v2 and v1 alike).',
    "anyOf": [
        {"type": "boolean"},
        {"type": "integer", "enum": [0, 1]},
        {"type": "string", "enum": ["0", "1"]},
    ],
}
WireId = Annotated[Any, WithJsonSchema(WIRE_ID_SCHEMA)]
WireBool = Annotated[Any, WithJsonSchema(WIRE_BOOL_SCHEMA)]


def _utf8(value: str) -> str:
    value.encode()  # a lone surrogate cannot be stored or sent: refuse it as a bad value
    return value


def _whole(value: Any) -> Any:
    """JSON has one number type: 5.0 is the integer 5 (as JSON Schema says), true is not."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


Text = Annotated[str, Field(max_length=MAX_TEXT), AfterValidator(_utf8)]
JsonInt = Annotated[int, BeforeValidator(_whole)]
AdminId = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(_whole)]

# ------------------------------------------------------------------ d6 requests


class V2ChangeState(BaseModel):
    """Body of v2 Change Client Integration State (PATCH, or POST as the docs' header says)."""

    school_id: WireId
    api_type_id: WireId
    state: WireBool


class V1ChangeState(BaseModel):
    """Body of v1 PATCH /settings/clients/{school_login_id}."""

    api_type_id: WireId
    state: WireBool


# ----------------------------------------------------------------- d6 answers


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class V2Record(_Closed):
    school_id: int
    school_name: str
    admin_email_address: str
    telephone_calling_code: str
    telephone_number: str
    api_type_id: int
    api_type: str
    activated_by_integrator: Literal["Yes", "No"]


class V1Record(_Closed):
    """v1 sends ids as strings and calls the school ``school_login_id``."""

    school_login_id: str
    school_name: str
    admin_email_address: str
    telephone_calling_code: str
    telephone_number: str
    api_type_id: str
    api_type: str
    activated_by_integrator: Literal["Yes", "No"]


class V2Meta(_Closed):
    limit: int = Field(
        description="The page size this page was cut to: `limit` when asked, else the default."
    )
    max_allowed_limit: int
    next_cursor: str | None = Field(
        default=None, description="Absent on the last page; pass it as `cursor` for the next."
    )


class V2Page(_Closed):
    data: list[V2Record]
    meta: V2Meta


class V2Changed(_Closed):
    success: Literal[True]
    message: str = Field(examples=["Integration successfully activated"])
    data: V2Record


class V2Error(_Closed):
    success: Literal[False]
    message: str = Field(
        examples=["Validation Failed", "Integration already activated", "Invalid API credentials"]
    )
    validation_errors: dict[str, str] | None = Field(
        default=None, description='With "Validation Failed": one message per bad field.'
    )
    data: V2Record | None = Field(
        default=None, description='With "Integration already …": the unchanged record.'
    )


class V1Error(_Closed):
    error: str
    error_description: str


# -------------------------------------------------------------- admin requests


class _Strict(BaseModel):
    """Admin bodies take JSON types as the schema states them: no 0 for false, no "5" for 5."""

    model_config = ConfigDict(strict=True)


class AuthoriseBody(_Strict):
    school_id: AdminId
    api_type_id: AdminId
    active: bool = False
    school_name: Text | None = None
    admin_email_address: Text | None = None
    telephone_calling_code: Text | None = None
    telephone_number: Text | None = None
    api_type: Text | None = None


class StateBody(_Strict):
    active: bool


class FaultBody(_Strict):
    kind: Annotated[FaultKind, Field(strict=False)]  # its JSON string
    route: Text = "*"
    method: str = Field(default="*", pattern=r"^(\*|[A-Z]{1,16})$")
    count: JsonInt = Field(default=1, ge=1, le=MAX_FAULT_COUNT)
    status: JsonInt = Field(default=503, ge=400, le=599)
    retry_after: str | None = Field(
        default=None, max_length=64, pattern=r"^[\x20-\x7e]*$", description="A header value."
    )
    delay_seconds: float = Field(default=0.0, ge=0, le=MAX_FAULT_DELAY)


class ResetBody(_Strict):
    seed: JsonInt = Field(
        default=0, ge=0, le=MAX_SEED, description="Schools to create, ids from 1000."
    )


LastEntries = Annotated[int, Field(ge=0, le=MAX_ENTRIES)]

# --------------------------------------------------------------- admin answers


class Health(TypedDict):
    status: str
    schools: int
    integrations: int
    active: int


class Revoked(TypedDict):
    revoked: bool


class Done(TypedDict):
    status: str


class PendingFault(TypedDict):
    kind: str
    route: str
    method: str
    count: int
    status: int
    retry_after: str | None
    delay_seconds: float
    fired: int
    remaining: int
