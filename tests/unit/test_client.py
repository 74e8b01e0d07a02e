"""The typed client against recorded d6 answers (``responses``): requests sent, results mapped."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from responses.matchers import query_param_matcher
from urllib3 import HTTPResponse

from pulumi_d6 import errors
from pulumi_d6.client import D6Client
from pulumi_d6.settings import resolve_settings
from pulumi_d6.transport import USER_AGENT, D6Retry, Throttle, build_retry

from ..rules.fake_d6 import record

BASE = "https://d6.example.test/api"
V2 = f"{BASE}/v2/settings/clientintegrations"
V1 = f"{BASE}/v1/settings/clients"
PASSWORD = "Pw-Never-Shown-93"


def make_client(**overrides: Any) -> D6Client:
    explicit = {"username": "integrator", "password": PASSWORD, "base_url": BASE, "max_retries": 2}
    explicit.update(overrides)
    return D6Client(resolve_settings(explicit, env={}))


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def body_of(call: Any) -> Any:
    body = call.request.body
    assert body is not None
    return json.loads(body)


def query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


# ------------------------------------------------------------------ requests


def test_every_request_carries_the_auth_headers_and_user_agent(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(V2, json={"data": [], "meta": {"limit": 10, "max_allowed_limit": 50}})
    make_client().list_integrations()
    headers = rsps.calls[0].request.headers
    assert headers["HTTP-X-USERNAME"] == "integrator"
    assert headers["HTTP-X-PASSWORD"] == PASSWORD
    assert headers["User-Agent"] == USER_AGENT
    assert headers["Accept"] == "application/json"
    assert "HTTP-X-SCHOOLID" not in headers


def test_v2_list_follows_three_pages_carrying_filters(rsps: responses.RequestsMock) -> None:
    pages = [
        {
            "data": [record(1000), record(1001)],
            "meta": {"limit": 2, "max_allowed_limit": 5, "next_cursor": "c1"},
        },
        {"data": [record(1002)], "meta": {"limit": 2, "max_allowed_limit": 5, "next_cursor": "c2"}},
        {"data": [record(1003)], "meta": {"limit": 2, "max_allowed_limit": 5}},
    ]
    for body in pages:
        rsps.get(V2, json=body)
    items = make_client().list_integrations(api_type_id=8)
    assert [i.school_id for i in items] == [1000, 1001, 1002, 1003]
    assert len(rsps.calls) == 3
    q = [query(c) for c in rsps.calls]
    assert q[0] == {"api_type_id": ["8"], "limit": ["50"]}  # the docs' maximum, until told
    assert q[1] == {"api_type_id": ["8"], "limit": ["5"], "cursor": ["c1"]}
    assert q[2] == {"api_type_id": ["8"], "limit": ["5"], "cursor": ["c2"]}
    assert all(c.request.method == "GET" for c in rsps.calls)


def test_a_first_page_limit_the_server_refuses_is_dropped_and_remembered(
    rsps: responses.RequestsMock,
) -> None:
    refused = {
        "success": False,
        "message": "Validation Failed",
        "validation_errors": {"limit": "The limit must be an integer between 1 and 20"},
    }
    rsps.get(V2, status=400, json=refused, match=[query_param_matcher({"limit": "50"})])
    rsps.get(
        V2, json={"data": [record(1000)], "meta": {"limit": 10}}, match=[query_param_matcher({})]
    )
    client = make_client()
    assert [i.school_id for i in client.list_integrations()] == [1000]
    assert [query(c) for c in rsps.calls] == [{"limit": ["50"]}, {}]
    client.list_integrations()
    assert query(rsps.calls[2]) == {}, "remembered: no second refusal"


def test_later_listings_start_at_the_max_page_size(rsps: responses.RequestsMock) -> None:
    # 37, not the first-page guess of 50: only a remembered max_allowed_limit can send 37.
    rsps.get(V2, json={"data": [], "meta": {"limit": 10, "max_allowed_limit": 37}})
    client = make_client()
    client.list_integrations()
    client.list_integrations(school_id=7)
    assert query(rsps.calls[0]) == {"limit": ["50"]}
    assert query(rsps.calls[1]) == {"school_id": ["7"], "limit": ["37"]}


def test_reverse_order_is_sent_as_1_on_every_page(rsps: responses.RequestsMock) -> None:
    rsps.get(V2, json={"data": [], "meta": {"next_cursor": "x"}})
    rsps.get(V2, json={"data": []})
    list(make_client().iter_integrations(reverse_order=True))
    assert [query(c)["reverse_order"] for c in rsps.calls] == [["1"], ["1"]]


def test_a_repeated_cursor_is_an_error_not_an_endless_loop(rsps: responses.RequestsMock) -> None:
    rsps.get(V2, json={"data": [], "meta": {"next_cursor": "same"}})
    with pytest.raises(errors.InvalidResponseError, match="repeats"):
        make_client().list_integrations()
    assert len(rsps.calls) == 2


def test_a_record_listed_on_two_pages_comes_back_once(rsps: responses.RequestsMock) -> None:
    """Pages that shift while being read (a school authorised meanwhile) repeat a record."""
    meta = {"limit": 2, "max_allowed_limit": 2}
    rsps.get(V2, json={"data": [record(1000), record(1001)], "meta": {**meta, "next_cursor": "c"}})
    rsps.get(V2, json={"data": [record(1001), record(1002)], "meta": meta})
    items = make_client().list_integrations()
    assert [i.key for i in items] == [(1000, 8), (1001, 8), (1002, 8)]


def test_get_integration_filters_by_school_and_type(rsps: responses.RequestsMock) -> None:
    rsps.get(V2, json={"data": [record(1000, 9), record(1000, 8, active=True)], "meta": {}})
    found = make_client().get_integration(1000, 8)
    assert found is not None
    assert found.active is True
    assert query(rsps.calls[0]) == {"school_id": ["1000"], "api_type_id": ["8"], "limit": ["50"]}


def test_get_integration_is_none_when_not_listed(rsps: responses.RequestsMock) -> None:
    rsps.get(V2, json={"data": [], "meta": {}})
    assert make_client().get_integration(1, 8) is None


def test_v1_list_reads_the_bare_array_with_string_ids(rsps: responses.RequestsMock) -> None:
    rows = [
        {**record(1000), "school_login_id": "1000", "api_type_id": "8"},
        {**record(1001), "api_type_id": "9"},
    ]
    for row in rows:
        row.pop("school_id", None)
    rows[1]["school_login_id"] = "1001"
    rsps.get(V1, json=rows)
    items = make_client(api_version="v1").list_integrations()
    assert [(i.school_id, i.api_type_id) for i in items] == [(1000, 8), (1001, 9)]


def test_v1_get_uses_the_school_path_segment(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{V1}/1000", json=[{**record(1000, 8, True), "school_login_id": "1000"}])
    found = make_client(api_version="v1").get_integration(1000, 8)
    assert found is not None
    assert found.active is True


def test_v1_404_for_a_school_means_not_authorised_yet(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{V1}/42",
        status=404,
        json={"error": "Not found", "error_description": "No client-authorised integrations found"},
    )
    assert make_client(api_version="v1").get_integration(42, 8) is None


# -------------------------------------------------------------- state change


def test_v2_activate_sends_patch_with_boolean_state(rsps: responses.RequestsMock) -> None:
    rsps.patch(
        V2,
        json={
            "success": True,
            "message": "Integration successfully activated",
            "data": record(1000, 8, True),
        },
    )
    change = make_client().activate(1000, 8)
    call = rsps.calls[0]
    assert call.request.method == "PATCH"
    assert body_of(call) == {"school_id": 1000, "api_type_id": 8, "state": True}
    assert call.request.headers["Content-Type"] == "application/json"
    assert change.changed is True
    assert change.active is True
    assert change.integration is not None
    assert change.integration.school_name == "School 1000"


def test_v2_deactivate_sends_false(rsps: responses.RequestsMock) -> None:
    rsps.patch(
        V2,
        json={
            "success": True,
            "message": "Integration successfully deactivated",
            "data": record(1000),
        },
    )
    change = make_client().deactivate(1000, 8)
    assert body_of(rsps.calls[0])["state"] is False
    assert (change.changed, change.active) == (True, False)


@pytest.mark.parametrize(
    ("active", "message"),
    [(True, "Integration already activated"), (False, "Integration already deactivated")],
)
def test_already_in_that_state_is_not_an_error(
    rsps: responses.RequestsMock, active: bool, message: str
) -> None:
    rsps.patch(
        V2, status=400, json={"success": False, "message": message, "data": record(1000, 8, active)}
    )
    change = make_client().set_state(1000, 8, active)
    assert change.changed is False
    assert change.active is active
    assert change.message == message
    assert len(rsps.calls) == 1


def test_405_falls_back_to_post_once_per_client(rsps: responses.RequestsMock) -> None:
    """Learnt per client: the provider process has one, so it is learnt once per process,
    and two clients (tests, two API roots) never leak it into each other."""
    rsps.patch(V2, status=405, json={"success": False, "message": "Method not allowed"})
    rsps.post(
        V2,
        json={
            "success": True,
            "message": "Integration successfully activated",
            "data": record(1, 8, True),
        },
    )
    client = make_client()
    client.activate(1, 8)
    client.activate(2, 8)  # the same client remembers
    assert [c.request.method for c in rsps.calls] == ["PATCH", "POST", "POST"]
    make_client().activate(3, 8)  # a new client learns for itself
    assert [c.request.method for c in rsps.calls][3:] == ["PATCH", "POST"]


def test_v1_change_state_patches_the_school_path_and_accepts_204(
    rsps: responses.RequestsMock,
) -> None:
    rsps.patch(f"{V1}/1000", status=204, body="")
    change = make_client(api_version="v1").set_state(1000, 8, True)
    assert body_of(rsps.calls[0]) == {"api_type_id": 8, "state": 1}
    assert change.changed is True
    assert change.integration is None
    make_client(api_version="v1").set_state(1000, 8, False)
    assert body_of(rsps.calls[1]) == {"api_type_id": 8, "state": 0}


def test_v1_200_with_empty_array_is_success(rsps: responses.RequestsMock) -> None:
    rsps.patch(f"{V1}/1000", json=[])
    assert make_client(api_version="v1").activate(1000, 8).changed is True


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("status", "body", "error_type", "text"),
    [
        (
            401,
            {"success": False, "message": "Client has not authorised access"},
            errors.NotAuthorisedError,
            "Client has not authorised access",
        ),
        (
            401,
            {"error": "Unauthorized", "error_description": "Client access not authorised"},
            errors.NotAuthorisedError,
            "Client access not authorised",
        ),
        (
            401,
            {"success": False, "message": "Invalid credentials"},
            errors.BadCredentialsError,
            "username from argument username, password from argument password",
        ),
        (
            400,
            {
                "success": False,
                "message": "Validation Failed",
                "validation_errors": {
                    "api_type_id": "The api_type_id is invalid",
                    "state": "The State must be a boolean",
                },
            },
            errors.ValidationFailedError,
            "api_type_id: The api_type_id is invalid; state: The State must be a boolean",
        ),
        (
            400,
            {"success": False, "message": "Something else"},
            errors.BadRequestError,
            "Something else",
        ),
        (403, {"success": False, "message": "Forbidden"}, errors.ForbiddenError, "Forbidden"),
        (
            404,
            {"success": False, "message": "route_not_found"},
            errors.NotFoundError,
            "try d6:apiVersion=v1",
        ),
        (
            404,
            {"error": "Not found", "error_description": "No school record found"},
            errors.NotFoundError,
            "No school record found",
        ),
    ],
)
def test_documented_error_bodies_map_to_types(
    rsps: responses.RequestsMock,
    status: int,
    body: dict[str, Any],
    error_type: type[Exception],
    text: str,
) -> None:
    rsps.patch(V2, status=status, json=body)
    with pytest.raises(error_type) as err:
        make_client().activate(1000, 8)
    assert text in str(err.value)
    assert isinstance(err.value, errors.APIError)
    assert err.value.status == status
    assert err.value.method == "PATCH"
    assert err.value.url == V2
    assert PASSWORD not in str(err.value)
    assert len(rsps.calls) == 1, "4xx answers are never retried"


def test_validation_errors_are_kept_per_field(rsps: responses.RequestsMock) -> None:
    rsps.get(
        V2,
        status=400,
        json={
            "success": False,
            "message": "Validation Failed",
            "validation_errors": {"limit": "too big"},
        },
    )
    with pytest.raises(errors.ValidationFailedError) as err:
        make_client().list_integrations()
    assert err.value.validation_errors == {"limit": "too big"}


def test_503_twice_then_success_is_retried(rsps: responses.RequestsMock) -> None:
    rsps.get(V2, status=503, json={"success": False, "message": "busy"})
    rsps.get(V2, status=503, json={"success": False, "message": "busy"})
    rsps.get(V2, json={"data": [record(1)], "meta": {}})
    assert len(make_client(max_retries=4).list_integrations()) == 1
    assert len(rsps.calls) == 3


def test_429_with_retry_after_then_success(rsps: responses.RequestsMock) -> None:
    # `responses` retries without sleeping; the wait itself is tested against the emulator
    # (tests/emulator/test_retry_after.py) with urllib3's sleep replaced.
    rsps.patch(
        V2,
        status=429,
        headers={"Retry-After": "1"},
        json={"success": False, "message": "Rate limits have been reached"},
    )
    rsps.patch(V2, json={"success": True, "message": "Integration successfully activated"})
    assert make_client().activate(1, 8).changed is True
    assert len(rsps.calls) == 2


def test_429_beyond_the_budget_is_a_rate_limit_error(rsps: responses.RequestsMock) -> None:
    rsps.patch(
        V2,
        status=429,
        headers={"Retry-After": "3"},
        json={"success": False, "message": "Rate limits have been reached"},
    )
    with pytest.raises(errors.RateLimitedError) as err:
        make_client(max_retries=2).activate(1, 8)
    assert err.value.retry_after == 3.0
    assert len(rsps.calls) == 3


def test_zero_retries_disables_retrying(rsps: responses.RequestsMock) -> None:
    rsps.get(V2, status=500, json={"success": False, "message": "boom"})
    with pytest.raises(errors.ServerError, match="boom"):
        make_client(max_retries=0).list_integrations()
    assert len(rsps.calls) == 1


def test_an_html_502_page_is_a_server_error_with_an_excerpt(rsps: responses.RequestsMock) -> None:
    page = (
        "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
    )
    rsps.get(V2, status=502, body=page, content_type="text/html")
    with pytest.raises(errors.ServerError) as err:
        make_client(max_retries=1).list_integrations()
    assert "502 Bad Gateway" in str(err.value)
    assert err.value.body_excerpt.startswith("<html>")
    assert len(rsps.calls) == 2


@pytest.mark.parametrize(
    ("body", "content_type", "text"),
    [
        ("", "application/json", "empty body where JSON was expected"),
        ('{"data": [', "application/json", "malformed JSON"),
        ("<html>login</html>", "text/html", "an HTML page"),
        ('{"unexpected": true}', "application/json", "not a page of client integrations"),
    ],
)
def test_bodies_that_are_not_the_documented_json(
    rsps: responses.RequestsMock, body: str, content_type: str, text: str
) -> None:
    rsps.get(V2, status=200, body=body, content_type=content_type)
    with pytest.raises(errors.InvalidResponseError) as err:
        make_client().list_integrations()
    assert text in str(err.value)
    assert err.value.status == 200


def test_v2_state_change_with_an_empty_200_is_an_invalid_response(
    rsps: responses.RequestsMock,
) -> None:
    rsps.patch(V2, status=200, body="")
    with pytest.raises(errors.InvalidResponseError, match="empty body where JSON was expected"):
        make_client().activate(1, 8)


def test_garbage_state_change_body_is_an_invalid_response(rsps: responses.RequestsMock) -> None:
    rsps.patch(V2, status=200, body="<html>proxy</html>", content_type="text/html")
    with pytest.raises(errors.InvalidResponseError, match="HTML page"):
        make_client().activate(1, 8)


def test_a_redirect_is_not_followed(rsps: responses.RequestsMock) -> None:
    rsps.get(V2, status=302, headers={"Location": "https://elsewhere.example/login"})
    with pytest.raises(
        errors.InvalidResponseError, match=r"redirect to https://elsewhere\.example/login"
    ):
        make_client().list_integrations()
    assert len(rsps.calls) == 1


def test_a_timeout_is_a_timeout_error(rsps: responses.RequestsMock) -> None:
    rsps.get(V2, body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(errors.D6TimeoutError, match="no answer within d6:timeoutSeconds=30s"):
        make_client().list_integrations()


def test_an_unreachable_host_is_a_connection_error() -> None:
    # A port we hold bound but never listen on: nobody else can take it, and connecting to
    # it is refused at once.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        client = make_client(base_url=f"http://127.0.0.1:{port}/api", max_retries=1)
        with pytest.raises(errors.D6ConnectionError) as err:
            client.list_integrations()
    assert not isinstance(err.value, errors.D6TimeoutError)
    assert f"could not reach d6 at http://127.0.0.1:{port}/api after 2 attempt(s)" in str(err.value)


# ------------------------------------------------------------ retry policy


def _fake_response(status: int, headers: dict[str, str]) -> HTTPResponse:
    return HTTPResponse(body=b"", status=status, headers=headers, preload_content=False)


def test_retry_after_is_honoured_up_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("urllib3.util.retry.time.sleep", slept.append)
    retry = build_retry(3, None)
    retry.sleep(_fake_response(429, {"Retry-After": "2"}))
    retry.sleep(_fake_response(429, {"Retry-After": "86400"}))
    assert slept == [2, 60]


def _backoffs(retries: int) -> list[float]:
    retry: D6Retry = build_retry(retries, None)
    waits = []
    for _ in range(retries):
        retry = retry.increment("GET", "/x", response=_fake_response(503, {}))
        waits.append(retry.get_backoff_time())
    return waits


@pytest.mark.parametrize(("jitter", "extra"), [(0.0, 0.0), (1.0, 0.25)])
def test_backoff_doubles_from_a_quarter_second_with_jitter_and_is_capped_at_8(
    monkeypatch: pytest.MonkeyPatch, jitter: float, extra: float
) -> None:
    monkeypatch.setattr("urllib3.util.retry.random.random", lambda: jitter)
    doubling = [0.0, 0.5, 1.0, 2.0, 4.0]
    assert _backoffs(8) == [0.0, *(w + extra for w in doubling[1:]), 8.0, 8.0, 8.0]


def test_post_and_patch_are_retryable_methods() -> None:
    retry = build_retry(2, None)
    assert retry.is_retry("PATCH", 503)
    assert retry.is_retry("POST", 429)
    assert not retry.is_retry("PATCH", 400)
    assert not retry.is_retry("GET", 401)


def test_throttle_spaces_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    slept: list[float] = []
    monkeypatch.setattr("pulumi_d6.transport.time.monotonic", lambda: clock[0])
    monkeypatch.setattr("pulumi_d6.transport.time.sleep", slept.append)
    throttle = Throttle(4.0)
    for _ in range(3):
        throttle.acquire()
    assert slept == [0.25, 0.5]


# ------------------------------------------------------------------ secrets


def test_password_is_absent_from_reprs_errors_and_debug_logs(
    rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rsps.get(V2, json={"data": [record(1)], "meta": {}})
    rsps.patch(V2, status=401, json={"success": False, "message": "Invalid credentials"})
    client = make_client()
    client.list_integrations()
    with pytest.raises(errors.BadCredentialsError) as err:
        client.activate(1, 8)
    assert "HTTP-X-PASSWORD': '<redacted>'" in caplog.text
    assert "GET https://d6.example.test/api/v2/settings/clientintegrations?limit=50 -> 200" in (
        caplog.text
    )
    for text in (caplog.text, repr(client), repr(client.settings), str(err.value), repr(err.value)):
        assert PASSWORD not in text


def test_proxy_and_ca_bundle_come_from_the_environment_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "localhost")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/corp.pem")
    session = make_client()._transport.session
    assert session.trust_env is False, "no per-request environment or ~/.netrc lookups"
    assert session.proxies["https"] == "http://proxy.internal:3128"
    assert session.verify == "/etc/ssl/certs/corp.pem"
    local = make_client(base_url="http://localhost:8787/api")._transport.session
    assert "http" not in local.proxies, "NO_PROXY is honoured"


@pytest.mark.parametrize(
    "given", [{"base_url": "https://x/api"}, "https://x/api", resolve_settings]
)
def test_the_constructor_refuses_anything_but_settings_naming_the_way_in(given: Any) -> None:
    with pytest.raises(TypeError) as refused:
        D6Client(given)
    assert str(refused.value) == (
        f"D6Client takes D6Settings, got {type(given).__name__}: build one with "
        "D6Client.from_settings(...) or D6Client.from_env()"
    )
