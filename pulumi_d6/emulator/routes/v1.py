"""d6's v1 routes: bare arrays with string ids, and a change of state answered with 204."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ..openapi import V1_CHANGE_BODY, V1_CHANGE_RESPONSES, V1_LIST_RESPONSES
from ..runtime import Emulator, emulator_of
from ..shapes import ID_PATTERN, V1Record
from ..wire import (
    V1_NOT_AUTHORISED,
    V1_ROUTE,
    V1_SCHOOL_ROUTE,
    json_object,
    parse_boolean,
    parse_wire_id,
    v1_empty_listing,
    v1_error,
    v1_record,
)
from .auth import require_v1

router: APIRouter = APIRouter(dependencies=[Depends(require_v1)], tags=["d6 v1"])
# Documented, not enforced by FastAPI: a bad id is d6's own 400, not FastAPI's 422.
SchoolLoginId = Annotated[
    str, Path(description="The school's id.", json_schema_extra={"pattern": ID_PATTERN})
]


def _listing(emu: Emulator, school_id: int | None) -> Response:
    rows = emu.store.list(school_id=school_id)
    if not rows:
        return v1_empty_listing()
    return JSONResponse([v1_record(r) for r in rows])


@router.get(
    V1_ROUTE,
    operation_id="listClientsV1",
    summary="List client integrations (v1, one array)",
    response_model=list[V1Record],
    responses=V1_LIST_RESPONSES,
)
def list_clients(request: Request) -> Response:
    """Every authorised integration; an empty listing is a 404."""
    return _listing(emulator_of(request), None)


@router.get(
    V1_SCHOOL_ROUTE,
    operation_id="listSchoolClientsV1",
    summary="List one school's client integrations (v1)",
    response_model=list[V1Record],
    responses=V1_LIST_RESPONSES,
)
def list_school(request: Request, school_login_id: SchoolLoginId) -> Response:
    school_id = parse_wire_id(school_login_id)
    if school_id is None:
        return v1_error(400, "Bad Request", "The school_login_id must be an integer")
    return _listing(emulator_of(request), school_id)


@router.patch(
    V1_SCHOOL_ROUTE,
    operation_id="changeSchoolClientStateV1",
    summary="Change one school's client integration state (v1)",
    status_code=204,
    response_class=Response,
    responses=V1_CHANGE_RESPONSES,
    openapi_extra=V1_CHANGE_BODY,
)
async def change_school(request: Request, school_login_id: SchoolLoginId) -> Response:
    """Answers 204 with no body, also for a repeat (v1 has no "already")."""
    school_id = parse_wire_id(school_login_id)
    body = await json_object(request)
    problems = []
    if school_id is None:
        problems.append("The school_login_id must be an integer")
    api_type_id = parse_wire_id(body.get("api_type_id"))
    if api_type_id is None:
        problems.append("The api_type_id is required and must be an integer")
    state = parse_boolean(body.get("state"))
    if state is None:
        problems.append("The state is required and must be 1 or 0")
    if problems or school_id is None or api_type_id is None or state is None:
        return v1_error(400, "Bad Request", "; ".join(problems))
    store = emulator_of(request).store
    result = await run_in_threadpool(store.set_active, school_id, api_type_id, state)
    if result is None:
        return v1_error(401, "Unauthorized", V1_NOT_AUTHORISED)
    return Response(status_code=204)
