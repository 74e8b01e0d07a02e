"""The two dialects of d6's client-integration endpoints, behind one small interface.

v2 lists with cursor pagination and changes state with PATCH (or POST: the docs disagree with
themselves, see docs/d6-api.md) and a JSON answer; v1 lists a bare array with string ids and
answers a change with 204 and no body. :class:`~pulumi_d6.client.D6Client` picks one of these
classes once, so no method has to ask which version it is speaking.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import requests
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from .errors import NotFoundError, ValidationFailedError, d6_message
from .models import ClientIntegrationInfo, Page, StateChange
from .transport import Transport, attempts_of

log: logging.Logger = logging.getLogger(__name__)

V2_INTEGRATIONS = "/v2/settings/clientintegrations"
FIRST_PAGE_LIMIT = 50  # the docs' max_allowed_limit; a server that allows less says so (400)
V1_CLIENTS = "/v1/settings/clients"


@dataclass(frozen=True)
class Listing:
    """One Get Client Integrations query: the filters and how to page."""

    school_id: int | None = None
    api_type_id: int | None = None
    page_size: int | None = None
    reverse_order: bool = False


class Dialect(Protocol):
    """What the client needs from an API version."""

    def records(self, query: Listing) -> Iterator[ClientIntegrationInfo]: ...

    def set_state(self, school_id: int, api_type_id: int, active: bool) -> StateChange: ...


class V2Api:
    """``/v2/settings/clientintegrations``: cursor pages, JSON answers to a change of state."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self._max_page_size: int | None = None
        self._first_page_limit: int | None = FIRST_PAGE_LIMIT
        # The method change-state takes on this API root: PATCH, or POST once PATCH got a 405.
        self._state_method = "PATCH"
        self._method_lock = threading.Lock()

    def pages(self, query: Listing) -> Iterator[Page]:
        """Pages, following ``next_cursor`` until it is absent, at ``max_allowed_limit`` records
        each (unless ``page_size`` is given), so T records take ceil(T / max) requests. Before
        the server has said its maximum, the first page asks for the docs' 50; if the server
        refuses that ``limit``, the page is asked again without it, and the client remembers."""
        t = self.transport
        page_size = query.page_size
        filters: dict[str, Any] = {}
        if query.school_id is not None:
            filters["school_id"] = query.school_id
        if query.api_type_id is not None:
            filters["api_type_id"] = query.api_type_id
        if query.reverse_order:
            filters["reverse_order"] = 1
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            params = dict(filters)
            guessed = page_size is None and self._max_page_size is None
            limit = page_size or self._max_page_size or self._first_page_limit
            if limit:
                params["limit"] = limit
            if cursor is not None:
                params["cursor"] = cursor
            response = t.request("GET", V2_INTEGRATIONS, params=params)
            if guessed and limit and self._refuses_limit(response):
                log.info("d6 refused limit=%s on a first page; asking with its default", limit)
                self._first_page_limit = None
                del params["limit"]
                response = t.request("GET", V2_INTEGRATIONS, params=params)
            page = _parsed(
                Page, t.success_json(response), response, "a page of client integrations"
            )
            if page.meta.max_allowed_limit and page_size is None:
                self._max_page_size = page.meta.max_allowed_limit
            yield page
            cursor = page.meta.next_cursor
            if not cursor:
                return
            if cursor in seen:
                raise t.invalid(response, f"next_cursor {cursor!r} repeats an earlier page")
            seen.add(cursor)

    def _refuses_limit(self, response: requests.Response) -> bool:
        """A 400 "Validation Failed" that names ``limit`` (read as every error is read)."""
        if response.status_code != 400:
            return False
        error = self.transport.error_for(response)
        return isinstance(error, ValidationFailedError) and "limit" in error.validation_errors

    def records(self, query: Listing) -> Iterator[ClientIntegrationInfo]:
        for page in self.pages(query):
            yield from page.data

    def set_state(self, school_id: int, api_type_id: int, active: bool) -> StateChange:
        payload = {"school_id": school_id, "api_type_id": api_type_id, "state": active}
        with self._method_lock:
            method = self._state_method
        response = self.transport.request(method, V2_INTEGRATIONS, json=payload)
        if response.status_code == 405 and method == "PATCH":
            log.info("PATCH %s answered 405; this client uses POST from now on", V2_INTEGRATIONS)
            with self._method_lock:
                self._state_method = "POST"
            response = self.transport.request("POST", V2_INTEGRATIONS, json=payload)
        # v2 documents a JSON body: an empty or garbled one leaves it unknown whether the change
        # happened, so it must not pass for success.
        return state_change(self.transport, response, school_id, api_type_id, active, True)


class V1Api:
    """``/v1/settings/clients``: one bare array, 204 with no body for a change of state."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def records(self, query: Listing) -> Iterator[ClientIntegrationInfo]:
        """v1 filters by school only and does not page: the client filters the rest."""
        t = self.transport
        school_id = query.school_id
        path = V1_CLIENTS if school_id is None else f"{V1_CLIENTS}/{school_id}"
        response = t.request("GET", path)
        if response.status_code == 404:
            error = t.error_for(response)
            if isinstance(error, NotFoundError) and not error.route_not_found:
                return  # v1 answers 404 when no (matching) school has authorised you
            raise error
        body = t.success_json(response)
        items = body.get("data") if isinstance(body, Mapping) else body
        if not isinstance(items, list):
            raise t.invalid(response, "expected a JSON array of clients")
        for item in items:
            yield _parsed(ClientIntegrationInfo, item, response, "a list of clients")

    def set_state(self, school_id: int, api_type_id: int, active: bool) -> StateChange:
        body = {"api_type_id": api_type_id, "state": 1 if active else 0}
        response = self.transport.request("PATCH", f"{V1_CLIENTS}/{school_id}", json=body)
        return state_change(self.transport, response, school_id, api_type_id, active, False)


Model = TypeVar("Model", bound=BaseModel)


def _parsed(model: type[Model], body: Any, response: requests.Response, what: str) -> Model:
    try:
        return model.model_validate(body)
    except PydanticValidationError as exc:
        problems = exc.error_count()
    raise Transport.invalid(response, f"not {what} ({problems} problems)")


def state_change(
    transport: Transport,
    response: requests.Response,
    school_id: int,
    api_type_id: int,
    active: bool,
    body_required: bool,
) -> StateChange:
    """The outcome of a change of state; "Integration already ..." (400) is not an error."""
    status = response.status_code
    body: Any = None
    if 200 <= status < 300:
        parse = transport.expect_json if body_required else transport.optional_json
        body = parse(response)
        changed = True
    elif status == 400:
        body = transport.optional_json(response)
        message = d6_message(body).lower()
        if not message.startswith("integration already"):
            raise transport.error_for(response)
        changed = False
        if "deactivated" in message:
            active = False
        elif "activated" in message:
            active = True
    else:
        raise transport.error_for(response)
    integration = None
    data = body.get("data") if isinstance(body, Mapping) else None
    if isinstance(data, Mapping):
        try:
            integration = ClientIntegrationInfo.model_validate(data)
        except PydanticValidationError:
            log.warning("ignoring an unreadable 'data' record in the state-change response")
    return StateChange(
        school_id=school_id,
        api_type_id=api_type_id,
        active=active,
        changed=changed,
        message=d6_message(body),
        integration=integration,
        attempts=attempts_of(response),
    )
