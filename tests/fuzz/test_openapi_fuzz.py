"""The emulator's /openapi.json, fuzzed with schemathesis against a real emulator on loopback.

Every check schemathesis has runs on every generated case (schema-valid and schema-invalid
ones, the boundary values of its coverage phase, methods a route does not serve, requests
without credentials): no server error and no answer the schema does not describe, on the d6
routes (with valid credentials) and on the admin routes. Examples per operation are bounded so
the tier takes well under a minute on two busy cores.

Where d6 answers 400 to a request the schema calls valid, that is d6's documented behaviour,
not a contradiction, and the checks are told so for the v2 route alone: change-state answers 400
"Integration already …" (and "api_type_id is invalid" for an API type d6 does not know), and the
listing's cursor is opaque, so a made-up one is a validation error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from schemathesis import Case

from pulumi_d6.emulator import EmulatorAdmin, EmulatorConfig, EmulatorServer, create_app

MAX_EXAMPLES = 25
ACCEPTED_WITH_400 = ["2xx", "400", "401", "404", "429"]


def _schema(path_regex: str, *, accepted_with_400: bool = False) -> schemathesis.BaseSchema:
    """The operations under ``path_regex``; ``accepted_with_400`` for routes where d6 answers
    400 to schema-valid requests (module docstring). Per-operation ``[[operations]]`` config would
    drop the path filter in schemathesis 4.32, hence one schema per rule."""
    checks = {"positive_data_acceptance": {"expected-statuses": ACCEPTED_WITH_400}}
    config = schemathesis.Config.from_dict(
        {
            "cache": {"enabled": False},  # nothing left behind in the work tree
            # Two busy cores make generation slow; that is no fault of the schema.
            "suppress-health-check": ["too_slow"],
            # d6 ignores query parameters it does not know, so made-up ones prove nothing.
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "allow-extra-parameters": False,
            },
            "checks": checks if accepted_with_400 else {},
        }
    )
    # The schema depends on the config only, so it is read from the app at collection; the
    # cases go to the real servers below (``base_url``).
    schema = schemathesis.openapi.from_dict(create_app().openapi(), config=config)
    return schema.include(path_regex=path_regex)


v2_routes = _schema(r"^/api/v2/", accepted_with_400=True)
v1_routes = _schema(r"^/api/v1/")
admin_routes = _schema(r"^/_emulator/")


@pytest.fixture(scope="module")
def d6_server() -> Iterator[EmulatorServer]:
    """Schools 1000-1004 are authorised for 8 and 9, so valid cases reach real state changes."""
    with EmulatorServer(EmulatorConfig(), seed=5) as server:
        yield server


@pytest.fixture(scope="module")
def admin_server() -> Iterator[EmulatorServer]:
    """A server of its own: the faults the fuzzer injects must not reach the d6 fuzzing."""
    with EmulatorServer(EmulatorConfig()) as server:
        yield server


def _call_d6(case: Case[Any], server: EmulatorServer) -> None:
    config = server.config
    case.call_and_validate(
        base_url=server.url,
        headers={"HTTP-X-USERNAME": config.username, "HTTP-X-PASSWORD": config.password},
        timeout=10,
    )


@v2_routes.parametrize()
def test_v2_routes_answer_as_their_schema_says(case: Case[Any], d6_server: EmulatorServer) -> None:
    _call_d6(case, d6_server)


@v1_routes.parametrize()
def test_v1_routes_answer_as_their_schema_says(case: Case[Any], d6_server: EmulatorServer) -> None:
    _call_d6(case, d6_server)


@admin_routes.parametrize()
def test_admin_routes_answer_as_their_schema_says(
    case: Case[Any], admin_server: EmulatorServer
) -> None:
    case.call_and_validate(base_url=admin_server.url, timeout=30)
    if case.path == "/_emulator/faults" and case.method == "POST":
        EmulatorAdmin(admin_server.admin_url).clear_faults()  # stay below the pending cap
