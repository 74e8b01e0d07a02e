"""d6's v2 client-integration routes: a cursor-paged listing and Change Client Integration State."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ..openapi import LIST_PARAMETERS, V2_CHANGE_BODY, V2_CHANGE_RESPONSES, V2_LIST_RESPONSES
from ..runtime import emulator_of
from ..shapes import V2Changed, V2Page
from ..store import Integration, Store
from ..wire import (
    NOT_AUTHORISED,
    V2_ROUTE,
    ListQuery,
    encode_cursor,
    json_object,
    parse_boolean,
    parse_list_query,
    required_id,
    v2_error,
    v2_page,
    v2_record,
    validation_failed,
)
from .auth import require_v2

router: APIRouter = APIRouter(dependencies=[Depends(require_v2)], tags=["d6 v2"])


@router.get(
    V2_ROUTE,
    operation_id="listClientIntegrationsV2",
    summary="List client integrations (cursor paged)",
    response_model=V2Page,
    responses=V2_LIST_RESPONSES,
    openapi_extra={"parameters": LIST_PARAMETERS},
)
def list_integrations(request: Request) -> Response:
    """Every integration a school has authorised for this integrator, in pages; the last page
    has no `meta.next_cursor`."""
    emu = emulator_of(request)
    query = parse_list_query(request.query_params, emu.config)
    if not isinstance(query, ListQuery):
        return validation_failed(query)
    rows = emu.store.list(
        school_id=query.school_id,
        api_type_id=query.api_type_id,
        after=query.after,
        limit=query.limit + 1,
        reverse=query.reverse,
    )
    if len(rows) <= query.limit:
        return v2_page(rows, emu.config, query.limit)
    rows = rows[: query.limit]
    return v2_page(rows, emu.config, query.limit, encode_cursor(rows[-1].key, query.reverse))


def _set_active(
    store: Store, school_id: int, api_type_id: int, active: bool
) -> tuple[Integration, Integration] | Literal["unknown API type"] | None:
    """One trip to the store's thread: check the API type, then change the state."""
    if not store.api_type_exists(api_type_id):
        return "unknown API type"
    return store.set_active(school_id, api_type_id, active)


async def change_state(request: Request) -> Response:
    """Activate (`state` true) or deactivate one integration. A repeat answers 400
    "Integration already activated/deactivated" with the record."""
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
        return v2_error(401, NOT_AUTHORISED)
    before, after = result
    verb = "activated" if state else "deactivated"
    if before.active == state:
        return v2_error(400, f"Integration already {verb}", data=v2_record(after))
    return JSONResponse(
        {"success": True, "message": f"Integration successfully {verb}", "data": v2_record(after)}
    )


# One handler, two operations: the docs' header says POST, their samples send PATCH.
for _method, _summary in (
    ("PATCH", "Change client integration state (as d6's samples send it)"),
    ("POST", "Change client integration state (as d6's page header names it)"),
):
    router.add_api_route(
        V2_ROUTE,
        change_state,
        methods=[_method],
        operation_id=f"changeClientIntegrationStateV2{_method.title()}",
        summary=_summary,
        response_model=V2Changed,
        responses=V2_CHANGE_RESPONSES,
        openapi_extra=V2_CHANGE_BODY,
    )
