"""d6's v1 routes: bare arrays with string ids, and a change of state answered with 204."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ..runtime import Emulator, emulator_of
from ..wire import (
    V1_ROUTE,
    V1_SCHOOL_ROUTE,
    json_object,
    parse_boolean,
    parse_wire_id,
    v1_error,
    v1_record,
)
from .auth import require_v1

router: APIRouter = APIRouter(dependencies=[Depends(require_v1)])


def _listing(emu: Emulator, school_id: int | None) -> Response:
    rows = emu.store.list(school_id=school_id)
    if not rows:
        return v1_error(404, "Not found", "No client-authorised integrations found")
    return JSONResponse([v1_record(r) for r in rows])


@router.get(V1_ROUTE)
def list_clients(request: Request) -> Response:
    return _listing(emulator_of(request), None)


@router.get(V1_SCHOOL_ROUTE)
def list_school(request: Request, school_login_id: str) -> Response:
    school_id = parse_wire_id(school_login_id)
    if school_id is None:
        return v1_error(400, "Bad Request", "The school_login_id must be an integer")
    return _listing(emulator_of(request), school_id)


@router.patch(V1_SCHOOL_ROUTE)
async def change_school(request: Request, school_login_id: str) -> Response:
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
        return v1_error(401, "Unauthorized", "Client access not authorised")
    return Response(status_code=204)
