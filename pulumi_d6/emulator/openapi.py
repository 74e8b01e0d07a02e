"""The emulator's OpenAPI description of d6: what each route answers, its query parameters, its
request bodies and the two credential headers, built from the models in ``shapes.py``.

Served at ``/openapi.json``. It is the project's written description of the d6 API
(docs/d6-api.md says which parts are d6's documentation and which are the emulator's guesses).
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.security import APIKeyHeader
from pydantic import BaseModel

from .config import EmulatorConfig
from .shapes import ID_PATTERN, V1ChangeState, V1Error, V2ChangeState, V2Error
from .wire import MAX_CURSOR_LENGTH

USERNAME_HEADER = APIKeyHeader(
    name="HTTP-X-USERNAME",
    scheme_name="d6Username",
    description="The integrator username d6 issued, sent literally under this header name.",
    auto_error=False,
)
PASSWORD_HEADER = APIKeyHeader(
    name="HTTP-X-PASSWORD",
    scheme_name="d6Password",
    description="The integrator password d6 issued, sent literally under this header name.",
    auto_error=False,
)

Responses = dict[int | str, dict[str, Any]]
TOO_LARGE: dict[str, Any] = {"model": V2Error, "description": "The request body is too large."}

_ALLOW = {"Allow": {"description": "The methods this route serves.", "schema": {"type": "string"}}}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Whole seconds to wait before trying again.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}


def _common(error: type[BaseModel], bad_credentials: str) -> Responses:
    """What every d6 route can answer besides its own: auth, routing, method and rate limit."""
    return {
        401: {"model": error, "description": bad_credentials},
        404: {
            "model": V2Error,
            "description": "route_not_found: the route is not served to these credentials "
            "(the emulator: its API version is switched off).",
        },
        405: {"model": V2Error, "description": "Method not allowed.", "headers": _ALLOW},
        413: TOO_LARGE,
        429: {
            "model": V2Error,
            "description": "Rate limits have been reached, please slow down your requests.",
            "headers": _RETRY_AFTER,
        },
    }


V2_LIST_RESPONSES: Responses = {
    **_common(V2Error, "Invalid API credentials."),
    400: {"model": V2Error, "description": "Validation Failed, with `validation_errors`."},
}
V2_CHANGE_RESPONSES: Responses = {
    **_common(
        V2Error,
        "Invalid API credentials; or Client has not authorised access (the school has not "
        "authorised this integrator for this API type, or revoked it).",
    ),
    400: {
        "model": V2Error,
        "description": "Validation Failed (with `validation_errors`); or Integration already "
        "activated / deactivated (with the unchanged record in `data`): success for pulumi-d6.",
    },
}
V1_LIST_RESPONSES: Responses = {
    **_common(V1Error, "Invalid API credentials."),
    400: {"model": V1Error, "description": "The school_login_id must be an integer."},
    404: {
        "model": V1Error | V2Error,
        "description": "No client-authorised integrations found (an empty listing); or "
        "route_not_found.",
    },
}
V1_CHANGE_RESPONSES: Responses = {
    **_common(
        V1Error, "Invalid API credentials; or Client access not authorised (for this school)."
    ),
    200: {
        "description": "Success as d6's docs show it (`[]`); the emulator answers 204.",
        "content": {"application/json": {"schema": {"type": "array", "maxItems": 0}}},
    },
    400: {"model": V1Error, "description": "A bad school_login_id, api_type_id or state."},
    404: {"model": V2Error, "description": "route_not_found."},
}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


_QUERY_ID = {"type": "string", "pattern": f"^$|{ID_PATTERN}"}
LIST_PARAMETERS = [
    _query("school_id", _QUERY_ID, "Only this school. Empty counts as absent."),
    _query("api_type_id", _QUERY_ID, "Only this API type, e.g. 8. Empty counts as absent."),
    _query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": EmulatorConfig.max_page_size},
        "Page size, up to `meta.max_allowed_limit`; the default page size when absent. "
        "`meta.limit` answers the size used.",
    ),
    _query(
        "cursor",
        {"type": "string", "maxLength": MAX_CURSOR_LENGTH},
        "Opaque: `meta.next_cursor` of the previous page. Anything else is a validation error.",
    ),
    _query(
        "reverse_order",
        {"type": "string", "enum": ["", "0", "1", "true", "false"]},
        "Newest first.",
    ),
]


def json_body(model: type[BaseModel], description: str) -> dict[str, Any]:
    """A route's ``openapi_extra`` for a JSON body the handler parses itself (as d6 does:
    a bad body is d6's 400, not FastAPI's 422)."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


V2_CHANGE_BODY = json_body(V2ChangeState, "The integration and the state it should have.")
V1_CHANGE_BODY = json_body(V1ChangeState, "The API type and the state it should have.")


def install(app: FastAPI, config: EmulatorConfig) -> None:
    """Serve the schema with this emulator's own page-size bound."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = copy.deepcopy(  # the routes share their parameter lists between apps
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
            for path, operations in schema["paths"].items():
                for operation in operations.values():
                    _settle(operation, config, d6=path.startswith("/api/"))
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _settle(operation: dict[str, Any], config: EmulatorConfig, *, d6: bool) -> None:
    """What FastAPI cannot say by itself: this emulator's page-size bound, that d6 wants both
    credential headers (one requirement, not either), and that d6 never answers 422."""
    for parameter in operation.get("parameters", []):
        if parameter["name"] == "limit" and parameter["in"] == "query":
            parameter["schema"]["maximum"] = config.max_page_size
    if d6:
        operation["security"] = [{"d6Username": [], "d6Password": []}]
        operation["responses"].pop("422", None)
