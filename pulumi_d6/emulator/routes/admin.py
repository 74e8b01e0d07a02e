"""The admin API under ``/_emulator`` (loopback clients only, no d6 auth): reset, authorise,
revoke, drift, faults and the request log, for tests, benchmarks and users' own CI.

Every input is bounded (``shapes.py``) and the store refuses to grow past its limit, so no admin
request can take the emulator away from the d6 routes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from ..faults import Fault
from ..openapi import TOO_LARGE, Responses
from ..requestlog import RequestLogSnapshot
from ..runtime import emulator_of
from ..shapes import (
    AuthoriseBody,
    Done,
    FaultBody,
    Health,
    LastEntries,
    PendingFault,
    ResetBody,
    Revoked,
    StateBody,
    V2Error,
    V2Record,
)
from ..store import MAX_ID, StoreFull
from ..wire import v2_error, v2_record

router: APIRouter = APIRouter(
    prefix="/_emulator",
    tags=["emulator admin"],
    responses={
        403: {"model": V2Error, "description": "The client is not on loopback."},
        413: TOO_LARGE,
    },
)
SchoolId = Annotated[int, Path(gt=0, le=MAX_ID)]
_NOT_AUTHORISED: Responses = {
    404: {"model": V2Error, "description": "Not authorised by that school."}
}
_BODY: Responses = {400: {"model": V2Error, "description": "The body cannot be read as JSON."}}
_FULL: Responses = {
    **_BODY,
    409: {"model": V2Error, "description": "Busy (a reset is running) or full."},
}


@router.get("/health", operation_id="emulatorHealth")
def health(request: Request) -> Health:
    return {"status": "ok", **emulator_of(request).store.counts()}  # type: ignore[typeddict-item]


@router.post("/reset", operation_id="emulatorReset", response_model=Health, responses=_FULL)
def reset(request: Request, body: ResetBody | None = None) -> Any:
    """Forget everything, then seed `seed` schools (bounded; written in short chunks). One
    reset at a time: another one meanwhile is refused, not queued."""
    emu = emulator_of(request)
    if not emu.resetting.acquire(blocking=False):
        return v2_error(409, "another reset is running")
    try:
        emu.store.reset((body or ResetBody()).seed)
        emu.faults.clear()
        emu.log.clear()
        return {"status": "ok", **emu.store.counts()}
    finally:
        emu.resetting.release()


@router.post(
    "/authorisations", operation_id="emulatorAuthorise", response_model=V2Record, responses=_FULL
)
def authorise(request: Request, body: AuthoriseBody) -> Response:
    """A school authorises the integrator for one API type."""
    given = {
        "name": body.school_name,
        "admin_email_address": body.admin_email_address,
        "telephone_calling_code": body.telephone_calling_code,
        "telephone_number": body.telephone_number,
    }
    try:
        row = emulator_of(request).store.authorise(
            body.school_id, body.api_type_id, active=body.active,
            details={field: value for field, value in given.items() if value},
            api_type=body.api_type or None,
        )  # fmt: skip
    except StoreFull as exc:
        return v2_error(409, str(exc))
    return JSONResponse(v2_record(row))


@router.delete("/authorisations/{school_id}/{api_type_id}", operation_id="emulatorRevoke")
def revoke(request: Request, school_id: SchoolId, api_type_id: SchoolId) -> Revoked:
    return {"revoked": emulator_of(request).store.revoke(school_id, api_type_id)}


@router.get(
    "/integrations/{school_id}/{api_type_id}",
    operation_id="emulatorGetIntegration",
    response_model=V2Record,
    responses=_NOT_AUTHORISED,
)
def get_integration(request: Request, school_id: SchoolId, api_type_id: SchoolId) -> Response:
    row = emulator_of(request).store.get(school_id, api_type_id)
    if row is None:
        return v2_error(404, "not authorised")
    return JSONResponse(v2_record(row))


@router.put(
    "/integrations/{school_id}/{api_type_id}",
    operation_id="emulatorSetIntegration",
    response_model=V2Record,
    responses={**_NOT_AUTHORISED, **_BODY},
)
def set_integration(
    request: Request, school_id: SchoolId, api_type_id: SchoolId, body: StateBody
) -> Response:
    """Drift: change the state as if someone did it in the d6+ UI."""
    result = emulator_of(request).store.set_active(school_id, api_type_id, body.active)
    if result is None:
        return v2_error(404, "not authorised")
    return JSONResponse(v2_record(result[1]))


@router.post(
    "/faults", operation_id="emulatorAddFault", response_model=PendingFault, responses=_FULL
)
def add_fault(request: Request, body: FaultBody) -> Any:
    """The next `count` /api requests matching `method` and `route` get this fault."""
    fault = Fault(**body.model_dump())
    if not emulator_of(request).faults.add(fault):
        return v2_error(409, "too many pending faults: clear them first")
    return fault.as_dict()


@router.get("/faults", operation_id="emulatorListFaults")
def list_faults(request: Request) -> list[PendingFault]:
    return emulator_of(request).faults.pending()  # type: ignore[return-value]


@router.delete("/faults", operation_id="emulatorClearFaults")
def clear_faults(request: Request) -> Done:
    emulator_of(request).faults.clear()
    return {"status": "ok"}


@router.get("/requests", operation_id="emulatorRequestLog")
def requests_log(
    request: Request, last: Annotated[LastEntries, Query()] = 100
) -> RequestLogSnapshot:
    return emulator_of(request).log.snapshot(last)


@router.delete("/requests", operation_id="emulatorClearRequestLog")
def clear_requests(request: Request) -> Done:
    emulator_of(request).log.clear()
    return {"status": "ok"}
