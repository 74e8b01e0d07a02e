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
from pulumi_d6.emulator.pytest_plugin import RunningEmulator
from pulumi_d6.emulator.store import Store, generated_school

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
