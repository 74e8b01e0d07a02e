"""The admin API under ``/_emulator`` (loopback clients only, no d6 auth): reset, authorise,
revoke, drift, faults and the request log, for tests, benchmarks and users' own CI."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from ..faults import Fault, FaultKind
from ..runtime import emulator_of
from ..store import School, generated_school
from ..wire import v2_error, v2_record

router: APIRouter = APIRouter(prefix="/_emulator")


class AuthoriseBody(BaseModel):
    school_id: int = Field(gt=0)
    api_type_id: int = Field(gt=0)
    active: bool = False
    school_name: str | None = None
    admin_email_address: str | None = None
    telephone_calling_code: str | None = None
    telephone_number: str | None = None
    api_type: str | None = None


class StateBody(BaseModel):
    active: bool


class FaultBody(BaseModel):
    kind: FaultKind
    route: str = "*"
    method: str = "*"
    count: int = Field(default=1, ge=1)
    status: int = Field(default=503, ge=100, le=599)
    retry_after: str | None = None
    delay_seconds: float = Field(default=0.0, ge=0)


class ResetBody(BaseModel):
    seed: int = Field(default=0, ge=0)


@router.get("/health")
def health(request: Request) -> dict[str, Any]:
    return {"status": "ok", **emulator_of(request).store.counts()}


@router.post("/reset")
def reset(request: Request, body: ResetBody | None = None) -> dict[str, Any]:
    emu = emulator_of(request)
    emu.store.reset((body or ResetBody()).seed)
    emu.faults.clear()
    emu.log.clear()
    return {"status": "ok", **emu.store.counts()}


@router.post("/authorisations")
def authorise(request: Request, body: AuthoriseBody) -> dict[str, Any]:
    store = emulator_of(request).store
    details = (
        body.school_name,
        body.admin_email_address,
        body.telephone_calling_code,
        body.telephone_number,
    )
    if any(details):
        base = generated_school(body.school_id)
        store.add_school(
            School(
                body.school_id,
                body.school_name or base.name,
                body.admin_email_address or base.admin_email_address,
                body.telephone_calling_code or base.telephone_calling_code,
                body.telephone_number or base.telephone_number,
            )
        )
    if body.api_type:
        store.add_api_type(body.api_type_id, body.api_type)
    return v2_record(store.authorise(body.school_id, body.api_type_id, active=body.active))


@router.delete("/authorisations/{school_id}/{api_type_id}")
def revoke(request: Request, school_id: int, api_type_id: int) -> dict[str, Any]:
    return {"revoked": emulator_of(request).store.revoke(school_id, api_type_id)}


@router.get("/integrations/{school_id}/{api_type_id}")
def get_integration(request: Request, school_id: int, api_type_id: int) -> Response:
    row = emulator_of(request).store.get(school_id, api_type_id)
    if row is None:
        return v2_error(404, "not authorised")
    return JSONResponse(v2_record(row))


@router.put("/integrations/{school_id}/{api_type_id}")
def set_integration(
    request: Request, school_id: int, api_type_id: int, body: StateBody
) -> Response:
    result = emulator_of(request).store.set_active(school_id, api_type_id, body.active)
    if result is None:
        return v2_error(404, "not authorised")
    return JSONResponse(v2_record(result[1]))


@router.post("/faults")
def add_fault(request: Request, body: FaultBody) -> dict[str, Any]:
    fault = Fault(**body.model_dump())
    emulator_of(request).faults.add(fault)
    return fault.as_dict()


@router.get("/faults")
def list_faults(request: Request) -> list[dict[str, Any]]:
    return emulator_of(request).faults.pending()


@router.delete("/faults")
def clear_faults(request: Request) -> dict[str, str]:
    emulator_of(request).faults.clear()
    return {"status": "ok"}


@router.get("/requests")
def requests_log(request: Request, last: int = 100) -> dict[str, Any]:
    return emulator_of(request).log.snapshot(last)


@router.delete("/requests")
def clear_requests(request: Request) -> dict[str, str]:
    emulator_of(request).log.clear()
    return {"status": "ok"}
