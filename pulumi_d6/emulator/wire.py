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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.datastructures import QueryParams

from .config import EmulatorConfig
from .shapes import ID_PATTERN
from .store import MAX_ID, Integration

V2_ROUTE = "/api/v2/settings/clientintegrations"
V1_ROUTE = "/api/v1/settings/clients"
V1_SCHOOL_ROUTE = "/api/v1/settings/clients/{school_login_id}"
RATE_LIMIT_MESSAGE = "Rate limits have been reached, please slow down your requests."
BAD_CREDENTIALS = "Invalid API credentials"
NOT_AUTHORISED = "Client has not authorised access"
V1_NOT_AUTHORISED = "Client access not authorised"
ROUTE_NOT_FOUND = "route_not_found"
METHOD_NOT_ALLOWED = "Method not allowed"
V1_EMPTY_LISTING = ("Not found", "No client-authorised integrations found")
MAX_CURSOR_LENGTH = 512
_ID_TEXT = re.compile(ID_PATTERN)
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


def v1_bad_credentials() -> JSONResponse:
    return v1_error(401, "Unauthorized", BAD_CREDENTIALS)


def validation_failed(errors: dict[str, str]) -> JSONResponse:
    return v2_error(400, "Validation Failed", validation_errors=errors)


def v1_empty_listing() -> JSONResponse:
    """v1's answer for a listing with nothing in it (an integrator's script looks for the text)."""
    return v1_error(404, *V1_EMPTY_LISTING)


def v2_meta(cfg: EmulatorConfig, limit: int, next_cursor: str | None = None) -> dict[str, Any]:
    """``meta.limit`` is the page size this page was cut to: the ``limit`` asked for, or the
    default when none was (docs/d6-api.md, "Paging")."""
    meta: dict[str, Any] = {"limit": limit, "max_allowed_limit": cfg.max_page_size}
    if next_cursor is not None:
        meta["next_cursor"] = next_cursor
    return meta


def v2_page(
    rows: list[Integration], cfg: EmulatorConfig, limit: int, next_cursor: str | None = None
) -> JSONResponse:
    body = {"data": [v2_record(r) for r in rows], "meta": v2_meta(cfg, limit, next_cursor)}
    return JSONResponse(body)


def page_limit(query_string: bytes, cfg: EmulatorConfig) -> int:
    """The page size a listing's query asks for, or the default when it asks for none or for
    one the route would refuse."""
    query = parse_list_query(QueryParams(query_string), cfg)
    return query.limit if isinstance(query, ListQuery) else cfg.page_size


def encode_cursor(key: tuple[int, int], reverse: bool) -> str:
    raw = json.dumps({"id": list(key), "_backward": reverse}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int] | None:
    if len(cursor) > MAX_CURSOR_LENGTH:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        sid, tid = data["id"]
        if all(type(v) is int and 0 <= v <= MAX_ID for v in (sid, tid)):
            return (sid, tid)
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        pass
    return None


# ------------------------------------------------------------------ parsing


def parse_boolean(value: Any, *, query: bool = False) -> bool | None:
    """d6's (Laravel's) boolean rule: exactly true, false, 1, 0, "1" or "0"; None when invalid.

    Query strings are always text, so ``query=True`` also accepts "true" and "false".
    """
    if isinstance(value, bool):
        return value
    if type(value) is int and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        if value == "1" or (query and value == "true"):
            return True
        if value == "0" or (query and value == "false"):
            return False
    return None


def parse_wire_id(value: Any) -> int | None:
    """A positive id SQLite can store: a JSON integer up to ``MAX_ID``, or digits
    (``ID_PATTERN``); None when invalid. The OpenAPI schema states the same rule."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    if isinstance(value, str) and _ID_TEXT.fullmatch(value):
        return int(value)
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


@dataclass(frozen=True)
class ListQuery:
    school_id: int | None
    api_type_id: int | None
    limit: int
    reverse: bool
    after: tuple[int, int] | None


def parse_list_query(q: Mapping[str, str], cfg: EmulatorConfig) -> ListQuery | dict[str, str]:
    """The v2 listing's query parameters, or d6's ``validation_errors`` for the bad ones.

    An empty value counts as absent, as Laravel turns empty strings into null.
    """
    errors: dict[str, str] = {}

    def given(name: str) -> str | None:
        value = q.get(name)
        return None if value in (None, "") else value

    ids: dict[str, int | None] = {}
    for name in ("school_id", "api_type_id"):
        raw = given(name)
        ids[name] = None if raw is None else parse_wire_id(raw)
        if raw is not None and ids[name] is None:
            errors[name] = f"The {name} must be an integer"
    limit = cfg.page_size
    if (raw_limit := given("limit")) is not None:
        parsed = parse_wire_id(raw_limit)
        if parsed is None or parsed > cfg.max_page_size:
            errors["limit"] = f"The limit must be an integer between 1 and {cfg.max_page_size}"
        else:
            limit = parsed
    reverse = False
    if (raw_reverse := given("reverse_order")) is not None:
        parsed_bool = parse_boolean(raw_reverse, query=True)
        if parsed_bool is None:
            errors["reverse_order"] = "The reverse_order must be a boolean"
        reverse = bool(parsed_bool)
    after = None
    if (raw_cursor := given("cursor")) is not None:
        after = decode_cursor(raw_cursor)
        if after is None:
            errors["cursor"] = "The cursor is invalid"
    if errors:
        return errors
    return ListQuery(ids["school_id"], ids["api_type_id"], limit, reverse, after)
