"""The emulator answers like d6: documented bodies, statuses, pagination, auth, faults, state."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from pulumi_d6.emulator import EmulatorServer, create_app
from pulumi_d6.emulator import store as store_module
from pulumi_d6.emulator.faults import MAX_PENDING
from pulumi_d6.emulator.middleware import TOO_LARGE as TOO_LARGE_MESSAGE
from pulumi_d6.emulator.pytest_plugin import RunningEmulator
from pulumi_d6.emulator.requestlog import MAX_COUNTERS, OTHER_ROUTES, RequestLog
from pulumi_d6.emulator.store import MAX_SEED, Store, generated_school
from pulumi_d6.emulator.wire import V2_ROUTE

Factory = Callable[..., RunningEmulator]
AUTH = {"HTTP-X-USERNAME": "demo", "HTTP-X-PASSWORD": "demo"}


def v2(emu: RunningEmulator) -> str:
    return f"{emu.base_url}/v2/settings/clientintegrations"


def v1(emu: RunningEmulator, school: int | str | None = None) -> str:
    suffix = "" if school is None else f"/{school}"
    return f"{emu.base_url}/v1/settings/clients{suffix}"


def get(url: str, **params: Any) -> requests.Response:
    return requests.get(url, headers=AUTH, params=params, timeout=10)


def change(emu: RunningEmulator, body: Any, method: str = "PATCH") -> requests.Response:
    return requests.request(method, v2(emu), headers=AUTH, json=body, timeout=10)


def all_pages(emu: RunningEmulator, **params: Any) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    requests_made = 0
    while True:
        body = get(v2(emu), **params).json()
        requests_made += 1
        items.extend(body["data"])
        if "next_cursor" not in body["meta"]:
            return items, requests_made
        params["cursor"] = body["meta"]["next_cursor"]


# ------------------------------------------------------------------ listing


def test_v2_list_record_and_meta_shapes(d6_emulator: RunningEmulator) -> None:
    d6_emulator.admin.reset(seed=1)
    r = get(v2(d6_emulator))
    assert r.status_code == 200
    body = r.json()
    school = generated_school(1000)
    assert body["data"][0] == {
        "school_id": 1000,
        "school_name": school.name,
        "admin_email_address": school.admin_email_address,
        "telephone_calling_code": "27",
        "telephone_number": school.telephone_number,
        "api_type_id": 8,
        "api_type": "Admin+ API",
        "activated_by_integrator": "No",
    }
    assert body["data"][1]["api_type_id"] == 9
    assert body["data"][1]["api_type"] == "Curriculum+ API"
    assert body["meta"] == {"limit": 10, "max_allowed_limit": 50}


def test_pagination_over_several_pages_with_and_without_filters(
    d6_emulator: RunningEmulator,
) -> None:
    d6_emulator.admin.reset(seed=16)  # 32 integrations: 4 pages of 10
    items, pages = all_pages(d6_emulator)
    assert pages == 4
    keys = [(i["school_id"], i["api_type_id"]) for i in items]
    assert keys == sorted(keys)
    assert len(set(keys)) == 32
    filtered, pages = all_pages(d6_emulator, api_type_id=9)
    assert pages == 2
    assert {i["api_type_id"] for i in filtered} == {9}
    assert len(filtered) == 16
    one_school, pages = all_pages(d6_emulator, school_id=1003)
    assert [(i["school_id"], i["api_type_id"]) for i in one_school] == [(1003, 8), (1003, 9)]


def test_limit_up_to_max_and_reverse_order(d6_emulator: RunningEmulator) -> None:
    d6_emulator.admin.reset(seed=30)
    items, pages = all_pages(d6_emulator, limit=50)
    assert (len(items), pages) == (60, 2)
    backwards, pages = all_pages(d6_emulator, reverse_order=1, limit=7)
    assert pages == 9
    assert [(i["school_id"], i["api_type_id"]) for i in backwards] == [
        (i["school_id"], i["api_type_id"]) for i in reversed(items)
    ]


def test_page_sizes_are_configurable(d6_emulator_factory: Factory) -> None:
    emu = d6_emulator_factory(seed=5, page_size=3, max_page_size=4)
    body = get(v2(emu)).json()
    assert len(body["data"]) == 3
    assert body["meta"]["limit"] == 3
    assert body["meta"]["max_allowed_limit"] == 4
    assert get(v2(emu), limit=5).status_code == 400


def test_meta_limit_is_the_size_each_page_was_cut_to(d6_emulator: RunningEmulator) -> None:
    d6_emulator.admin.reset(seed=4)  # 8 integrations
    first = get(v2(d6_emulator), limit=2).json()
    assert (len(first["data"]), first["meta"]["limit"]) == (2, 2)
    cursor = first["meta"]["next_cursor"]
    middle = get(v2(d6_emulator), limit=3, cursor=cursor).json()
    assert (len(middle["data"]), middle["meta"]["limit"]) == (3, 3)
    last = get(v2(d6_emulator), limit=5, cursor=middle["meta"]["next_cursor"]).json()
    assert (len(last["data"]), last["meta"]) == (3, {"limit": 5, "max_allowed_limit": 50})
    assert get(v2(d6_emulator), limit="").json()["meta"]["limit"] == 10, "empty is absent"
    d6_emulator.admin.inject("empty_listing", route=V2_ROUTE, method="GET")
    faulty = get(v2(d6_emulator), limit=4).json()
    assert faulty == {"data": [], "meta": {"limit": 4, "max_allowed_limit": 50}}


def test_the_schema_says_what_meta_limit_means(d6_emulator: RunningEmulator) -> None:
    schema = requests.get(f"{d6_emulator.server.url}/openapi.json", timeout=10).json()
    meta = schema["components"]["schemas"]["V2Meta"]["properties"]["limit"]["description"]
    assert meta == "The page size this page was cut to: `limit` when asked, else the default."


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"limit": 51}, "limit", "The limit must be an integer between 1 and 50"),
        ({"limit": 0}, "limit", "The limit must be an integer between 1 and 50"),
        ({"limit": "ten"}, "limit", "The limit must be an integer between 1 and 50"),
        ({"school_id": "abc"}, "school_id", "The school_id must be an integer"),
        ({"api_type_id": "-3"}, "api_type_id", "The api_type_id must be an integer"),
        ({"cursor": "not-a-cursor"}, "cursor", "The cursor is invalid"),
        ({"reverse_order": "maybe"}, "reverse_order", "The reverse_order must be a boolean"),
    ],
)
def test_bad_list_parameters_fail_validation(
    d6_emulator: RunningEmulator, params: dict[str, Any], field: str, message: str
) -> None:
    r = get(v2(d6_emulator), **params)
    assert r.status_code == 400
    assert r.json() == {
        "success": False,
        "message": "Validation Failed",
        "validation_errors": {field: message},
    }


# ------------------------------------------------------------ state change


@pytest.mark.parametrize("method", ["PATCH", "POST"])
def test_v2_change_state_bodies(d6_emulator: RunningEmulator, method: str) -> None:
    d6_emulator.admin.reset(seed=1)
    body = {"school_id": 1000, "api_type_id": 8, "state": True}
    first = change(d6_emulator, body, method)
    assert first.status_code == 200
    assert first.json()["success"] is True
    assert first.json()["message"] == "Integration successfully activated"
    assert first.json()["data"]["activated_by_integrator"] == "Yes"
    again = change(d6_emulator, body, method)
    assert again.status_code == 400
    assert again.json()["message"] == "Integration already activated"
    assert again.json()["success"] is False
    assert again.json()["data"]["school_id"] == 1000
    off = change(d6_emulator, {**body, "state": False}, method)
    assert (off.status_code, off.json()["message"]) == (200, "Integration successfully deactivated")
    off_again = change(d6_emulator, {**body, "state": 0}, method)
    assert (off_again.status_code, off_again.json()["message"]) == (
        400,
        "Integration already deactivated",
    )


@pytest.mark.parametrize(
    ("state", "active"),
    [(True, True), (1, True), ("1", True), (False, False), (0, False), ("0", False)],
)
def test_state_accepts_the_boolean_rule(
    d6_emulator: RunningEmulator, state: Any, active: bool
) -> None:
    d6_emulator.admin.authorise(1000, 8, active=not active)
    r = change(d6_emulator, {"school_id": 1000, "api_type_id": 8, "state": state})
    assert r.status_code == 200
    assert d6_emulator.admin.is_active(1000, 8) is active


def test_ids_as_digit_strings_are_accepted_as_the_schema_says(
    d6_emulator: RunningEmulator,
) -> None:
    d6_emulator.admin.authorise(1000, 8)
    r = change(d6_emulator, {"school_id": "0001000", "api_type_id": "8", "state": "1"})
    assert r.status_code == 200
    assert d6_emulator.admin.is_active(1000, 8) is True


def test_not_authorised_school(d6_emulator: RunningEmulator) -> None:
    r = change(d6_emulator, {"school_id": 4242, "api_type_id": 8, "state": True})
    assert r.status_code == 401
    assert r.json() == {"success": False, "message": "Client has not authorised access"}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {},
            {
                "school_id": "The school_id field is required",
                "api_type_id": "The api_type_id field is required",
                "state": "The state field is required",
            },
        ),
        (
            {"school_id": 1000, "api_type_id": 8, "state": "yes"},
            {"state": "The State must be a boolean"},
        ),
        (
            {"school_id": 1000, "api_type_id": 8, "state": "true"},
            {"state": "The State must be a boolean"},
        ),
        (
            {"school_id": 1000, "api_type_id": 8, "state": 2},
            {"state": "The State must be a boolean"},
        ),
        (
            {"school_id": 1000, "api_type_id": 8, "state": 1.0},
            {"state": "The State must be a boolean"},
        ),
        (
            {"school_id": "1234567890123456", "api_type_id": 8, "state": 1},
            {"school_id": "The school_id must be an integer"},
        ),
        (
            {"school_id": 2**53, "api_type_id": " 8", "state": 1},
            {
                "school_id": "The school_id must be an integer",
                "api_type_id": "The api_type_id must be an integer",
            },
        ),
        (
            {"school_id": "x", "api_type_id": 8, "state": 1},
            {"school_id": "The school_id must be an integer"},
        ),
        (
            {"school_id": 1000, "api_type_id": 77, "state": 1},
            {"api_type_id": "The api_type_id is invalid"},
        ),
        (
            "not an object",
            {
                "school_id": "The school_id field is required",
                "api_type_id": "The api_type_id field is required",
                "state": "The state field is required",
            },
        ),
    ],
)
def test_change_state_validation(
    d6_emulator: RunningEmulator, body: Any, errors: dict[str, str]
) -> None:
    d6_emulator.admin.reset(seed=1)
    r = change(d6_emulator, body)
    assert r.status_code == 400
    assert r.json() == {
        "success": False,
        "message": "Validation Failed",
        "validation_errors": errors,
    }


def test_change_state_methods_are_configurable(d6_emulator_factory: Factory) -> None:
    emu = d6_emulator_factory(seed=1, v2_state_methods=frozenset({"POST"}))
    patched = change(emu, {"school_id": 1000, "api_type_id": 8, "state": 1}, "PATCH")
    assert patched.status_code == 405
    assert patched.json() == {"success": False, "message": "Method not allowed"}
    assert change(emu, {"school_id": 1000, "api_type_id": 8, "state": 1}, "POST").status_code == 200


# ------------------------------------------------------------------- v1


def test_v1_routes(d6_emulator: RunningEmulator) -> None:
    d6_emulator.admin.reset(seed=2)
    everything = get(v1(d6_emulator))
    assert everything.status_code == 200
    rows = everything.json()
    assert isinstance(rows, list)
    assert len(rows) == 4
    assert rows[0]["school_login_id"] == "1000"
    assert rows[0]["api_type_id"] == "8"
    assert "school_id" not in rows[0]
    one = get(v1(d6_emulator, 1001)).json()
    assert [r["api_type_id"] for r in one] == ["8", "9"]
    r = requests.patch(
        v1(d6_emulator, 1001), headers=AUTH, json={"api_type_id": 9, "state": 1}, timeout=10
    )
    assert r.status_code == 204
    assert r.content == b""
    assert d6_emulator.admin.is_active(1001, 9) is True
    again = requests.patch(
        v1(d6_emulator, 1001), headers=AUTH, json={"api_type_id": 9, "state": 1}, timeout=10
    )
    assert again.status_code == 204, "v1 repeats succeed"


def test_v1_errors(d6_emulator: RunningEmulator) -> None:
    missing = get(v1(d6_emulator, 555))
    assert missing.status_code == 404
    assert missing.json() == {
        "error": "Not found",
        "error_description": "No client-authorised integrations found",
    }
    refused = requests.patch(
        v1(d6_emulator, 555), headers=AUTH, json={"api_type_id": 8, "state": 1}, timeout=10
    )
    assert refused.status_code == 401
    assert refused.json() == {
        "error": "Unauthorized",
        "error_description": "Client access not authorised",
    }
    bad = requests.patch(
        v1(d6_emulator, 555), headers=AUTH, json={"api_type_id": 8, "state": "on"}, timeout=10
    )
    assert bad.status_code == 400
    assert bad.json()["error"] == "Bad Request"


# ----------------------------------------------------------------- auth, 404


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP-X-USERNAME": "demo"},
        {"HTTP-X-USERNAME": "demo", "HTTP-X-PASSWORD": "wrong"},
        {"HTTP-X-USERNAME": "x", "HTTP-X-PASSWORD": "demo"},
    ],
)
def test_missing_or_wrong_credentials_are_401(
    d6_emulator: RunningEmulator, headers: dict[str, str]
) -> None:
    r2 = requests.get(v2(d6_emulator), headers=headers, timeout=10)
    assert r2.status_code == 401
    assert r2.json() == {"success": False, "message": "Invalid API credentials"}
    r1 = requests.get(v1(d6_emulator), headers=headers, timeout=10)
    assert r1.status_code == 401
    assert r1.json() == {"error": "Unauthorized", "error_description": "Invalid API credentials"}


def test_unknown_route_is_a_d6_style_404(d6_emulator: RunningEmulator) -> None:
    for url in (
        f"{d6_emulator.base_url}/v2/settings/clients",
        f"{d6_emulator.base_url}/v3/x",
        d6_emulator.server.url + "/nope",
    ):
        r = get(url)
        assert r.status_code == 404
        assert r.json() == {"success": False, "message": "route_not_found"}


def test_a_version_can_be_switched_off(d6_emulator_factory: Factory) -> None:
    emu = d6_emulator_factory(seed=1, api_versions=frozenset({"v1"}))
    assert get(v2(emu)).json() == {"success": False, "message": "route_not_found"}
    assert get(v1(emu)).status_code == 200


# --------------------------------------------------------------- rate limit


def test_rate_limit_answers_429_with_retry_after(d6_emulator_factory: Factory) -> None:
    emu = d6_emulator_factory(seed=1, rate_limit=2.0)
    statuses = [get(v2(emu)) for _ in range(8)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, "8 quick requests at 2 per second must hit the limit"
    assert limited[0].headers["Retry-After"] == "1"
    assert limited[0].json() == {
        "success": False,
        "message": "Rate limits have been reached, please slow down your requests.",
    }
    assert emu.admin.count(status=429) == len(limited)


# ------------------------------------------------------------------ faults


def test_status_fault_with_retry_after_then_normal(d6_emulator: RunningEmulator) -> None:
    d6_emulator.admin.inject(
        "status", status=503, retry_after="2", count=2, route="/api/v2/settings/clientintegrations"
    )
    first, second, third = (get(v2(d6_emulator)) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.headers["Retry-After"] == "2"
    assert first.json() == {"success": False, "message": "Service Unavailable"}
    assert d6_emulator.admin.pending_faults() == []


def test_faults_match_method_and_route(d6_emulator: RunningEmulator) -> None:
    d6_emulator.admin.reset(seed=1)
    d6_emulator.admin.inject(
        "status", status=500, method="PATCH", route="/api/v2/settings/clientintegrations"
    )
    assert get(v2(d6_emulator)).status_code == 200
    assert get(v1(d6_emulator)).status_code == 200
    assert change(d6_emulator, {"school_id": 1000, "api_type_id": 8, "state": 1}).status_code == 500


def test_html_malformed_and_empty_faults(d6_emulator: RunningEmulator) -> None:
    admin = d6_emulator.admin
    admin.inject("html", status=502)
    html = get(v2(d6_emulator))
    assert html.status_code == 502
    assert html.headers["content-type"].startswith("text/html")
    assert "<title>502 Bad Gateway</title>" in html.text
    admin.inject("malformed_json")
    malformed = get(v2(d6_emulator))
    assert malformed.status_code == 200
    with pytest.raises(ValueError):  # noqa: PT011 - any JSON decode error
        json.loads(malformed.text)
    admin.inject("empty_body")
    empty = get(v2(d6_emulator))
    assert (empty.status_code, empty.content) == (200, b"")


def test_delay_fault_outlasts_a_client_timeout(d6_emulator: RunningEmulator) -> None:
    d6_emulator.admin.inject("delay", delay_seconds=1.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(v2(d6_emulator), headers=AUTH, timeout=(2, 0.5))
    assert get(v2(d6_emulator)).status_code == 200


def test_drop_fault_closes_the_connection_without_an_answer(d6_emulator: RunningEmulator) -> None:
    d6_emulator.admin.inject("drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        get(v2(d6_emulator))
    assert get(v2(d6_emulator)).status_code == 200
    log = d6_emulator.admin.requests()
    assert [e["fault"] for e in log["entries"]] == ["drop", None]
    assert log["entries"][0]["status"] == 0


# ---------------------------------------------------------- admin and log


def test_request_log_counts_by_method_route_and_status(d6_emulator: RunningEmulator) -> None:
    d6_emulator.admin.reset(seed=1)
    get(v2(d6_emulator))
    get(v1(d6_emulator, 1000))
    change(d6_emulator, {"school_id": 1000, "api_type_id": 8, "state": 1})
    change(d6_emulator, {"school_id": 1000, "api_type_id": 8, "state": 1})
    admin = d6_emulator.admin
    assert admin.count() == 4
    assert admin.count(method="PATCH", status=400) == 1
    assert admin.count(route="/api/v1/settings/clients/{school_login_id}") == 1
    admin.clear_requests()
    assert admin.count() == 0


def test_admin_drift_revoke_and_authorise(d6_emulator: RunningEmulator) -> None:
    admin = d6_emulator.admin
    created = admin.authorise(77, 8, school_name="Drift High", active=True)
    assert created.school_name == "Drift High"
    assert created.active is True
    admin.set_active(77, 8, False)
    assert admin.is_active(77, 8) is False
    assert admin.revoke(77, 8) is True
    assert admin.integration(77, 8) is None
    assert get(v2(d6_emulator), school_id=77).json()["data"] == []
    assert admin.health()["integrations"] == 0


@pytest.mark.parametrize(
    ("name", "email"),
    [
        ("New School", "admin@new-school.d6-emulator.test"),
        ("Hoërskool Waterkloof", "admin@hoerskool-waterkloof.d6-emulator.test"),
        ("St. Mary's  (Pty) Ltd.", "admin@st-mary-s-pty-ltd.d6-emulator.test"),
        ("学校", "admin@school-5000.d6-emulator.test"),
        ("x" * 80, f"admin@{'x' * 63}.d6-emulator.test"),
    ],
)
def test_a_named_school_gets_contact_details_from_its_own_name(
    d6_emulator: RunningEmulator, name: str, email: str
) -> None:
    created = d6_emulator.admin.authorise(5000, 8, school_name=name)
    assert (created.school_name, created.admin_email_address) == (name, email)
    listed = get(v2(d6_emulator), school_id=5000).json()["data"]
    assert [row["admin_email_address"] for row in listed] == [email]


def test_details_left_out_keep_what_the_school_has(d6_emulator: RunningEmulator) -> None:
    admin = d6_emulator.admin
    admin.authorise(5000, 8, school_name="New School", admin_email_address="head@new.example")
    second = admin.authorise(5000, 9, telephone_number="0215550123")
    assert (second.school_name, second.admin_email_address, second.telephone_number) == (
        "New School",
        "head@new.example",
        "0215550123",
    )
    third = admin.authorise(5001, 8)
    assert (third.school_name, third.admin_email_address) == (
        "Riverside Primary School 41",
        "admin@riverside-primary-school-41.d6-emulator.test",
    ), "a school nobody named keeps its generated name and the matching address"


def test_admin_routes_are_loopback_only() -> None:
    app = create_app()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    scope = {
        "type": "http", "method": "POST", "path": "/_emulator/reset",
        "raw_path": b"/_emulator/reset", "query_string": b"", "headers": [],
        "client": ("203.0.113.9", 5000), "server": ("127.0.0.1", 80),
        "scheme": "http", "http_version": "1.1", "root_path": "",
    }  # fmt: skip
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 403
    assert json.loads(sent[1]["body"]) == {
        "success": False,
        "message": "the emulator admin API is loopback-only",
    }


# ------------------------------------------------------- state and threads


def test_state_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "d6.db"
    with EmulatorServer(db=db, seed=3) as first:
        r = requests.patch(
            f"{first.base_url}/v2/settings/clientintegrations",
            headers=AUTH,
            json={"school_id": 1002, "api_type_id": 9, "state": True},
            timeout=10,
        )
        assert r.status_code == 200
    with EmulatorServer(db=db, seed=3) as second:
        rows = requests.get(
            f"{second.base_url}/v1/settings/clients/1002", headers=AUTH, timeout=10
        ).json()
        assert {r["api_type_id"]: r["activated_by_integrator"] for r in rows} == {
            "8": "No",
            "9": "Yes",
        }
        assert (
            len(
                requests.get(
                    f"{second.base_url}/v1/settings/clients", headers=AUTH, timeout=10
                ).json()
            )
            == 6
        )


def test_twenty_parallel_state_changes_stay_consistent(d6_emulator: RunningEmulator) -> None:
    d6_emulator.admin.reset(seed=10)
    same = {"school_id": 1000, "api_type_id": 8, "state": True}
    barrier = threading.Barrier(20)

    def hit(i: int) -> int:
        barrier.wait()
        body = same if i < 10 else {"school_id": 1000 + (i - 10), "api_type_id": 9, "state": True}
        return change(d6_emulator, body).status_code

    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(hit, range(20)))
    assert statuses[:10].count(200) == 1, "exactly one of ten identical activations changes state"
    assert statuses[:10].count(400) == 9
    assert statuses[10:] == [200] * 10
    active = [
        (i["school_id"], i["api_type_id"])
        for i in all_pages(d6_emulator, limit=50)[0]
        if i["activated_by_integrator"] == "Yes"
    ]
    assert sorted(active) == sorted([(1000, 8)] + [(1000 + k, 9) for k in range(10)])


def test_seeded_schools_are_deterministic() -> None:
    first, second = Store(), Store()
    first.seed(30)
    second.seed(30)
    assert first.list() == second.list()
    names = {r.school_name for r in first.list()}
    assert len(names) == 30
    emails = {r.admin_email_address for r in first.list()}
    assert len(emails) == 30
    first.seed(30)
    assert first.counts() == {"schools": 30, "integrations": 60, "active": 0}


def test_server_stops_and_frees_its_port() -> None:
    server = EmulatorServer().start()
    port = server.port
    server.stop()
    # When stop() returns the port is free: binding it works at once (a socket still listening
    # would refuse it), and while we hold it unlistened, a request there is refused.
    with socket.socket() as held:
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        held.bind(("127.0.0.1", port))
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/_emulator/health", timeout=2)


def test_listening_socket_is_tcp_so_answers_are_not_held_by_nagle() -> None:
    from pulumi_d6.emulator.server import bind_socket

    sock = bind_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP, (
            "asyncio sets TCP_NODELAY only for IPPROTO_TCP sockets"
        )
    finally:
        sock.close()


@pytest.mark.parametrize("value", ["1" * 5000, str(2**63), 2**63, 1e300])
def test_hostile_ids_get_a_validation_error_not_a_crash(
    d6_emulator: RunningEmulator, value: object
) -> None:
    headers = {"HTTP-X-USERNAME": d6_emulator.username, "HTTP-X-PASSWORD": d6_emulator.password}
    url = f"{d6_emulator.base_url}/v2/settings/clientintegrations"
    listed = requests.get(url, params={"school_id": str(value)}, headers=headers, timeout=10)
    assert listed.status_code == 400
    assert listed.json()["validation_errors"]["school_id"] == "The school_id must be an integer"
    body = {"school_id": value, "api_type_id": 8, "state": True}
    changed = requests.patch(url, json=body, headers=headers, timeout=10)
    assert changed.status_code == 400
    v1 = requests.get(
        f"{d6_emulator.base_url}/v1/settings/clients/{value}", headers=headers, timeout=10
    )
    assert v1.status_code == 400


# ------------------------------------------------- the schema and 405 Allow


def test_openapi_documents_every_route_with_unique_ids_and_the_credential_headers(
    d6_emulator: RunningEmulator,
) -> None:
    schema = requests.get(f"{d6_emulator.server.url}/openapi.json", timeout=10).json()
    operations = {
        (method.upper(), path): op
        for path, item in schema["paths"].items()
        for method, op in item.items()
    }
    ids = [op["operationId"] for op in operations.values()]
    assert len(ids) == len(set(ids)) == 17
    schemes = schema["components"]["securitySchemes"]
    assert {s["name"] for s in schemes.values()} == {"HTTP-X-USERNAME", "HTTP-X-PASSWORD"}
    v2_patch = operations[("PATCH", "/api/v2/settings/clientintegrations")]
    v2_post = operations[("POST", "/api/v2/settings/clientintegrations")]
    assert v2_patch["security"] == [{"d6Username": [], "d6Password": []}]
    assert set(v2_patch["responses"]) == {"200", "400", "401", "404", "405", "413", "429"}
    assert v2_patch["requestBody"] == v2_post["requestBody"]
    assert v2_patch["responses"]["405"]["headers"].keys() == {"Allow"}
    assert v2_patch["responses"]["429"]["headers"].keys() == {"Retry-After"}
    listing = operations[("GET", "/api/v2/settings/clientintegrations")]
    assert set(listing["responses"]) == set(v2_patch["responses"])
    health = operations[("GET", "/_emulator/health")]
    assert set(health["responses"]) == {"200", "403", "413"}
    params = {p["name"]: p["schema"] for p in listing["parameters"]}
    assert params.keys() == {"school_id", "api_type_id", "limit", "cursor", "reverse_order"}
    assert (params["limit"]["minimum"], params["limit"]["maximum"]) == (1, 50)
    v1_patch = operations[("PATCH", "/api/v1/settings/clients/{school_login_id}")]
    assert {"200", "204"} <= set(v1_patch["responses"])
    assert "content" not in v1_patch["responses"]["204"]
    seed = schema["components"]["schemas"]["ResetBody"]["properties"]["seed"]
    assert (seed["minimum"], seed["maximum"]) == (0, MAX_SEED)


def test_the_limit_bound_in_the_schema_is_the_emulators_own(d6_emulator_factory: Factory) -> None:
    emu = d6_emulator_factory(page_size=3, max_page_size=7)
    schema = requests.get(f"{emu.server.url}/openapi.json", timeout=10).json()
    listing = schema["paths"]["/api/v2/settings/clientintegrations"]["get"]
    limit = next(p for p in listing["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 7


def test_405_names_every_method_the_path_serves(d6_emulator: RunningEmulator) -> None:
    r = requests.delete(v2(d6_emulator), headers=AUTH, timeout=10)
    assert r.status_code == 405
    assert r.headers["Allow"] == "GET, PATCH, POST"
    assert r.json() == {"success": False, "message": "Method not allowed"}
    assert requests.put(v1(d6_emulator, 1000), timeout=10).headers["Allow"] == "GET, PATCH"


def test_a_switched_off_change_method_answers_405_with_allow(d6_emulator_factory: Factory) -> None:
    emu = d6_emulator_factory(seed=1, v2_state_methods=frozenset({"POST"}))
    r = change(emu, {"school_id": 1000, "api_type_id": 8, "state": 1}, "PATCH")
    assert r.status_code == 405
    assert r.headers["Allow"] == "GET, POST"


# --------------------------------------- no request can stop the emulator


def _admin_post(emu: RunningEmulator, path: str, **kwargs: Any) -> requests.Response:
    return requests.post(f"{emu.server.admin_url}{path}", timeout=10, **kwargs)


@pytest.mark.parametrize("seed", [140007355, 10**8, MAX_SEED + 1, -1])
def test_a_seed_out_of_bounds_is_a_fast_4xx_and_changes_nothing(
    d6_emulator: RunningEmulator, seed: int
) -> None:
    d6_emulator.admin.reset(seed=2)
    r = _admin_post(d6_emulator, "/reset", json={"seed": seed})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "seed"]
    assert d6_emulator.admin.health()["integrations"] == 4
    assert get(v2(d6_emulator)).status_code == 200


def test_the_largest_seed_leaves_the_api_answering_meanwhile(
    d6_emulator: RunningEmulator,
) -> None:
    done = threading.Event()

    def seed() -> int:
        try:
            return _admin_post(d6_emulator, "/reset", json={"seed": MAX_SEED}).status_code
        finally:
            done.set()

    with ThreadPoolExecutor(1) as pool:
        seeding = pool.submit(seed)
        answered = 0
        while not done.is_set():
            health = requests.get(f"{d6_emulator.server.admin_url}/health", timeout=10)
            listing = get(v2(d6_emulator), limit=1)
            assert (health.status_code, listing.status_code) == (200, 200)
            answered += 1
        assert seeding.result() == 200
    # A request that waited for the whole seed would be the last one: two answered meanwhile.
    assert answered >= 2, "the API answered while the seed was written"
    assert d6_emulator.admin.health()["integrations"] == 2 * MAX_SEED


def test_a_second_reset_while_one_runs_is_refused_at_once(d6_emulator: RunningEmulator) -> None:
    emu = d6_emulator.server.app.state.emulator
    with emu.resetting:  # as if a reset were running: waiting for it would never end
        r = _admin_post(d6_emulator, "/reset", json={"seed": 1})
    assert r.status_code == 409
    assert r.json() == {"success": False, "message": "another reset is running"}
    assert d6_emulator.admin.health()["schools"] == 0


def test_a_flood_of_large_resets_runs_one_and_refuses_the_rest_fast(
    d6_emulator: RunningEmulator,
) -> None:
    barrier = threading.Barrier(6)

    finished: list[int] = []  # statuses, in the order the answers came back

    def reset(_: int) -> None:
        barrier.wait()
        status = _admin_post(d6_emulator, "/reset", json={"seed": MAX_SEED}).status_code
        finished.append(status)

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(reset, range(6)))
        assert requests.get(f"{d6_emulator.server.admin_url}/health", timeout=10).ok
    assert sorted(set(finished)) == [200, 409]
    assert finished[0] == 409, f"a refused reset answers before the running one ends: {finished}"
    assert get(v2(d6_emulator)).status_code == 200


@pytest.mark.parametrize("chunked", [False, True])
def test_a_huge_body_is_a_fast_413_and_the_api_keeps_answering(
    d6_emulator: RunningEmulator, chunked: bool
) -> None:
    d6_emulator.admin.reset(seed=1)
    huge = b'{"school_id": 1000, "api_type_id": 8, "state": 1, "pad": "' + b"x" * 10**7 + b'"}'
    body: Any = iter([huge[i : i + 65536] for i in range(0, len(huge), 65536)]) if chunked else huge
    headers = {**AUTH, "Content-Type": "application/json"}
    try:
        r = requests.patch(v2(d6_emulator), data=body, headers=headers, timeout=10)
    except requests.exceptions.ConnectionError:
        pytest.fail("the emulator must answer, not drop the connection")
    assert r.status_code == 413
    assert r.json() == {"success": False, "message": "The request body is too large"}
    assert d6_emulator.admin.is_active(1000, 8) is False
    for admin_path in ("/authorisations", "/faults", "/reset"):
        part = huge[: 10**6]
        sent: Any = (
            iter([part[i : i + 65536] for i in range(0, len(part), 65536)]) if chunked else part
        )
        refused = _admin_post(d6_emulator, admin_path, data=sent)
        assert (refused.status_code, refused.json()["message"]) == (413, TOO_LARGE_MESSAGE), (
            admin_path
        )
    assert get(v2(d6_emulator)).status_code == 200


def test_a_flood_of_faults_is_refused_past_the_cap(d6_emulator: RunningEmulator) -> None:
    fault = {"kind": "status", "route": "/nowhere"}
    with requests.Session() as session:
        statuses = [
            session.post(f"{d6_emulator.server.admin_url}/faults", json=fault, timeout=10)
            for _ in range(MAX_PENDING + 5)
        ]
    assert [r.status_code for r in statuses].count(200) == MAX_PENDING
    assert statuses[-1].status_code == 409
    assert statuses[-1].json()["message"] == "too many pending faults: clear them first"
    assert len(d6_emulator.admin.pending_faults()) == MAX_PENDING
    assert get(v2(d6_emulator)).status_code == 200


def test_authorisations_past_the_store_limit_are_refused(
    d6_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "MAX_INTEGRATIONS", 3)
    for school in (1, 2, 3):
        d6_emulator.admin.authorise(school, 8)
    refused = _admin_post(d6_emulator, "/authorisations", json={"school_id": 4, "api_type_id": 8})
    assert refused.status_code == 409
    assert refused.json()["message"] == "the emulator holds at most 3 integrations"
    assert d6_emulator.admin.integration(4, 8) is None
    assert d6_emulator.admin.authorise(3, 8).school_id == 3, "an existing one is still fine"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/authorisations", {"school_id": 2**53, "api_type_id": 8}, "school_id"),
        ("/authorisations", {"school_id": 1, "api_type_id": 8, "school_name": "x" * 201},
         "school_name"),
        ("/authorisations", {"school_id": 1, "api_type_id": 8, "active": 0}, "active"),
        ("/faults", {"kind": "status", "count": 10**6}, "count"),
        ("/faults", {"kind": "status", "status": 200}, "status"),
        ("/faults", {"kind": "delay", "delay_seconds": 3600}, "delay_seconds"),
        ("/faults", {"kind": "status", "retry_after": "1\r\nX-Evil: 1"}, "retry_after"),
        ("/faults", {"kind": "status", "method": "patch"}, "method"),
    ],
)  # fmt: skip
def test_admin_inputs_are_bounded(
    d6_emulator: RunningEmulator, path: str, body: dict[str, Any], field: str
) -> None:
    r = _admin_post(d6_emulator, path, json=body)
    assert r.status_code == 422
    assert [e["loc"][-1] for e in r.json()["detail"]] == [field]


@pytest.mark.parametrize(
    ("path", "raw", "field"),
    [
        ("/faults", '{"kind": "delay", "delay_seconds": NaN}', "delay_seconds"),
        ("/faults", '{"kind": "delay", "delay_seconds": Infinity}', "delay_seconds"),
        ("/authorisations", '{"school_id": 5, "api_type_id": 8, "school_name": "\\ud800"}',
         "school_name"),
    ],
)  # fmt: skip
def test_admin_inputs_json_cannot_echo_are_refused_all_the_same(
    d6_emulator: RunningEmulator, path: str, raw: str, field: str
) -> None:
    """Python's JSON reads NaN and lone surrogates; FastAPI's 422 could not write them back."""
    r = _admin_post(d6_emulator, path, data=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert [e["loc"][-1] for e in r.json()["detail"]] == [field]
    assert d6_emulator.admin.pending_faults() == []
    assert d6_emulator.admin.integration(5, 8) is None


def test_admin_path_ids_and_log_size_are_bounded(d6_emulator: RunningEmulator) -> None:
    admin = d6_emulator.server.admin_url
    assert requests.get(f"{admin}/integrations/{2**63}/8", timeout=10).status_code == 422
    assert requests.delete(f"{admin}/authorisations/0/8", timeout=10).status_code == 422
    too_many = requests.get(f"{admin}/requests", params={"last": 10**9}, timeout=10)
    assert too_many.status_code == 422


def test_the_request_counts_stay_bounded_under_made_up_paths() -> None:
    log = RequestLog()
    for n in range(MAX_COUNTERS + 50):
        log.record("GET", f"/api/made-up/{n}", f"/api/made-up/{n}", "", 404, None)
    counts = log.snapshot(last=0)["counts"]
    assert len(counts) == MAX_COUNTERS + 1
    assert {"method": "GET", "route": OTHER_ROUTES, "status": 404, "count": 50} in counts
    assert log.snapshot(last=0)["total"] == MAX_COUNTERS + 50
