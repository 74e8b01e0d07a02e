"""d6's v2 client-integration routes: a cursor-paged listing and Change Client Integration State."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ..config import EmulatorConfig
from ..runtime import emulator_of
from ..store import Integration, Store
from ..wire import (
    V2_ROUTE,
    decode_cursor,
    encode_cursor,
    json_object,
    parse_boolean,
    parse_wire_id,
    required_id,
    v2_error,
    v2_record,
    validation_failed,
)
from .auth import require_v2

router: APIRouter = APIRouter(dependencies=[Depends(require_v2)])


@dataclass(frozen=True)
class ListQuery:
    school_id: int | None
    api_type_id: int | None
    limit: int
    reverse: bool
    after: tuple[int, int] | None


def parse_list_query(q: Mapping[str, str], cfg: EmulatorConfig) -> ListQuery | dict[str, str]:
    """The listing's query parameters, or d6's ``validation_errors`` for the bad ones."""
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


@router.get(V2_ROUTE)
def list_integrations(request: Request) -> Response:
    emu = emulator_of(request)
    cfg = emu.config
    query = parse_list_query(request.query_params, cfg)
    if not isinstance(query, ListQuery):
        return validation_failed(query)
    rows = emu.store.list(
        school_id=query.school_id,
        api_type_id=query.api_type_id,
        after=query.after,
        limit=query.limit + 1,
        reverse=query.reverse,
    )
    meta: dict[str, Any] = {"limit": cfg.page_size, "max_allowed_limit": cfg.max_page_size}
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        meta["next_cursor"] = encode_cursor(rows[-1].key, query.reverse)
    return JSONResponse({"data": [v2_record(r) for r in rows], "meta": meta})


def _set_active(
    store: Store, school_id: int, api_type_id: int, active: bool
) -> tuple[Integration, Integration] | Literal["unknown API type"] | None:
    """One trip to the store's thread: check the API type, then change the state."""
    if not store.api_type_exists(api_type_id):
        return "unknown API type"
    return store.set_active(school_id, api_type_id, active)


@router.api_route(V2_ROUTE, methods=["PATCH", "POST"])
async def change_state(request: Request) -> Response:
    emu = emulator_of(request)
    body = await json_object(request)
    errors: dict[str, str] = {}
    school_id = required_id(body, "school_id", errors)
    api_type_id = required_id(body, "api_type_id", errors)
    state = None
    if "state" not in body or body["state"] is None:
        errors["state"] = "The state field is required"
    else:
        state = parse_boolean(body["state"])
        if state is None:
            errors["state"] = "The State must be a boolean"
    if errors or school_id is None or api_type_id is None or state is None:
        return validation_failed(errors)
    result = await run_in_threadpool(_set_active, emu.store, school_id, api_type_id, state)
    if result == "unknown API type":
        return validation_failed({"api_type_id": "The api_type_id is invalid"})
    if result is None:
        return v2_error(401, "Client has not authorised access")
    before, after = result
    verb = "activated" if state else "deactivated"
    if before.active == state:
        return v2_error(400, f"Integration already {verb}", data=v2_record(after))
    return JSONResponse(
        {"success": True, "message": f"Integration successfully {verb}", "data": v2_record(after)}
    )
