"""What travels over the wire: route templates, d6's record and error bodies, cursors, and the
parsing of request values (d6 runs Laravel; its validation rules are mirrored here).

Shapes follow docs/d6-api.md: v2 answers ``{success, message, data}`` and ``{data, meta}``;
v1 answers bare arrays with string ids and ``{error, error_description}``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from .store import Integration

V2_ROUTE = "/api/v2/settings/clientintegrations"
V1_ROUTE = "/api/v1/settings/clients"
V1_SCHOOL_ROUTE = "/api/v1/settings/clients/{school_login_id}"
RATE_LIMIT_MESSAGE = "Rate limits have been reached, please slow down your requests."
SQLITE_MAX_INT = 2**63 - 1
_ROUTES = (
    (re.compile(r"^/api/v2/settings/clientintegrations/?$"), V2_ROUTE),
    (re.compile(r"^/api/v1/settings/clients/?$"), V1_ROUTE),
    (re.compile(r"^/api/v1/settings/clients/[^/]+/?$"), V1_SCHOOL_ROUTE),
)


def route_of(path: str) -> str:
    """The route template a path belongs to (the request log counts by template)."""
    for pattern, template in _ROUTES:
        if pattern.match(path):
            return template
    return path


# ------------------------------------------------------------------- bodies


def v2_record(row: Integration) -> dict[str, Any]:
    return {
        "school_id": row.school_id,
        "school_name": row.school_name,
        "admin_email_address": row.admin_email_address,
        "telephone_calling_code": row.telephone_calling_code,
        "telephone_number": row.telephone_number,
        "api_type_id": row.api_type_id,
        "api_type": row.api_type,
        "activated_by_integrator": "Yes" if row.active else "No",
    }


def v1_record(row: Integration) -> dict[str, Any]:
    record = v2_record(row)
    del record["school_id"]
    return {"school_login_id": str(row.school_id), **record, "api_type_id": str(row.api_type_id)}


def v2_error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"success": False, "message": message, **extra}, status_code=status)


def v1_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def validation_failed(errors: dict[str, str]) -> JSONResponse:
    return v2_error(400, "Validation Failed", validation_errors=errors)


def encode_cursor(key: tuple[int, int], reverse: bool) -> str:
    raw = json.dumps({"id": list(key), "_backward": reverse}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int] | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        sid, tid = data["id"]
        if isinstance(sid, int) and isinstance(tid, int) and not isinstance(sid, bool):
            return (sid, tid)
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        pass
    return None


# ------------------------------------------------------------------ parsing


def parse_boolean(value: Any, *, query: bool = False) -> bool | None:
    """d6's (Laravel's) boolean rule: true, false, 1, 0, "1", "0"; None when invalid.

    Query strings are always text, so ``query=True`` also accepts "true" and "false".
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "1" or (query and text == "true"):
            return True
        if text == "0" or (query and text == "false"):
            return False
    return None


def parse_wire_id(value: Any) -> int | None:
    """A positive integer id (JSON number or digit string) SQLite can store; None when invalid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return value if 0 < value <= SQLITE_MAX_INT else None
    text = value.strip() if isinstance(value, str) else ""
    if text.isascii() and text.isdigit() and len(text.lstrip("0")) <= 19:
        return parse_wire_id(int(text))
    return None


async def json_object(request: Request) -> dict[str, Any]:
    """The request's JSON object body; anything else (garbage, an array) counts as empty."""
    raw = await request.body()
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def required_id(body: dict[str, Any], name: str, errors: dict[str, str]) -> int | None:
    if name not in body or body[name] is None:
        errors[name] = f"The {name} field is required"
        return None
    value = parse_wire_id(body[name])
    if value is None:
        errors[name] = f"The {name} must be an integer"
    return value
