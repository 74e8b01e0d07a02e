"""The typed client driven end to end against the emulator: real HTTP, real retries."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from pulumi_d6 import errors
from pulumi_d6.client import D6Client
from pulumi_d6.emulator.pytest_plugin import RunningEmulator
from pulumi_d6.settings import resolve_settings

Factory = Callable[..., RunningEmulator]
V2 = "/api/v2/settings/clientintegrations"


def client_for(emu: RunningEmulator, **overrides: Any) -> D6Client:
    return D6Client(resolve_settings(emu.settings(**overrides), env={}))


def test_list_follows_every_page(d6_emulator: RunningEmulator) -> None:
    d6_emulator.admin.reset(seed=40)
    client = client_for(d6_emulator)
    items = client.list_integrations()
    assert len(items) == 80
    assert d6_emulator.admin.count(method="GET") == 2, "ceil(80 / 50): 50 a page from the first"
    assert len(client.list_integrations(api_type_id=9)) == 40


def test_activate_already_active_and_deactivate(d6_emulator: RunningEmulator) -> None:
    d6_emulator.admin.reset(seed=2)
    client = client_for(d6_emulator)
    first = client.activate(1001, 8)
    assert (first.changed, first.active) == (True, True)
    assert first.integration is not None
    assert first.integration.school_name == "Riverside Primary School"
    again = client.activate(1001, 8)
    assert (again.changed, again.active) == (False, True)
    found = client.get_integration(1001, 8)
    assert found is not None
    assert found.active is True
    off = client.deactivate(1001, 8)
    assert (off.changed, off.active) == (True, False)
    assert d6_emulator.admin.is_active(1001, 8) is False


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize(
    ("school", "said"),
    [
        ("1000/../1001", "got '1000/../1001'"),  # v1 puts the id in the path: another school
        (-1, "got -1"),
        (True, "got a boolean (true)"),
        (float("nan"), "got nan"),
    ],
)
def test_a_bad_id_is_refused_before_any_request(
    d6_emulator: RunningEmulator, version: str, school: Any, said: str
) -> None:
    d6_emulator.admin.reset(seed=2)
    client = client_for(d6_emulator, api_version=version)
    with pytest.raises(errors.InvalidValueError) as refused:
        client.activate(school, 8)
    assert str(refused.value) == f"school_id must be a whole number greater than 0, {said}"
    with pytest.raises(errors.InvalidValueError):
        client.list_integrations(school_id=school)
    assert d6_emulator.admin.count() == 0
    assert d6_emulator.admin.is_active(1001, 8) is False
    digits: Any = "1001"  # as read from a file: digits are an id, as in stack config
    assert client.activate(digits, 8).school_id == 1001


def test_not_authorised_school_raises_its_own_type(d6_emulator: RunningEmulator) -> None:
    with pytest.raises(errors.NotAuthorisedError) as err:
        client_for(d6_emulator).activate(9999, 8)
    assert err.value.status == 401
    assert d6_emulator.admin.integration(9999, 8) is None


def test_bad_credentials(d6_emulator: RunningEmulator) -> None:
    client = client_for(d6_emulator, password="wrong-password-123")
    with pytest.raises(errors.BadCredentialsError) as err:
        client.list_integrations()
    assert "wrong-password-123" not in str(err.value)
    assert d6_emulator.admin.count() == 1, "401 is not retried"


def test_v1_mode_end_to_end(d6_emulator: RunningEmulator) -> None:
    d6_emulator.admin.reset(seed=3)
    client = client_for(d6_emulator, api_version="v1")
    assert len(client.list_integrations()) == 6
    change = client.activate(1002, 9)
    assert change.changed is True
    found = client.get_integration(1002, 9)
    assert found is not None
    assert found.active is True
    assert client.get_integration(5555, 8) is None
    with pytest.raises(errors.NotAuthorisedError):
        client.activate(5555, 8)
    assert (
        d6_emulator.admin.count(method="PATCH", route="/api/v1/settings/clients/{school_login_id}")
        == 2
    )


def test_retries_through_injected_503s(d6_emulator: RunningEmulator) -> None:
    d6_emulator.admin.reset(seed=1)
    d6_emulator.admin.inject("status", status=503, count=2, route=V2, method="PATCH")
    assert client_for(d6_emulator, max_retries=3).activate(1000, 8).changed is True
    assert d6_emulator.admin.count(method="PATCH", status=503) == 2
    assert d6_emulator.admin.count(method="PATCH", status=200) == 1


def test_retries_through_a_429_honouring_retry_after(d6_emulator: RunningEmulator) -> None:
    d6_emulator.admin.reset(seed=1)
    d6_emulator.admin.inject("status", status=429, retry_after="1", route=V2)
    assert len(client_for(d6_emulator).list_integrations()) == 2
    entries = d6_emulator.admin.requests()["entries"]
    assert [e["status"] for e in entries] == [429, 200]
    assert entries[1]["at"] - entries[0]["at"] >= 0.9, "the client waited for Retry-After"


def test_503_beyond_the_budget_is_a_server_error(d6_emulator: RunningEmulator) -> None:
    d6_emulator.admin.inject("status", status=503, count=5, route=V2)
    with pytest.raises(errors.ServerError, match="Service Unavailable"):
        client_for(d6_emulator, max_retries=2).list_integrations()
    assert d6_emulator.admin.count() == 3


def test_a_dropped_connection_is_retried(d6_emulator: RunningEmulator) -> None:
    d6_emulator.admin.reset(seed=1)
    d6_emulator.admin.inject("drop", route=V2, method="PATCH")
    assert client_for(d6_emulator).activate(1000, 9).changed is True


def test_connections_dropped_until_the_retries_run_out_say_so_plainly(
    d6_emulator: RunningEmulator,
) -> None:
    d6_emulator.admin.inject("drop", route=V2, method="GET", count=2)
    with pytest.raises(errors.D6ConnectionError) as dropped:
        client_for(d6_emulator, max_retries=1).list_integrations()
    text = str(dropped.value)
    assert "after 2 attempt(s): Remote end closed connection without response; " in text
    assert "RemoteDisconnected" not in text, "the OS's words, not the transport's classes"


def test_a_read_timeout_is_retried_then_reported(d6_emulator: RunningEmulator) -> None:
    d6_emulator.admin.inject("delay", delay_seconds=1.0, count=2, route=V2)
    with pytest.raises(errors.D6TimeoutError, match=r"no answer within d6:timeoutSeconds=0\.3s"):
        client_for(d6_emulator, timeout_seconds=0.3, max_retries=1).list_integrations()
    d6_emulator.admin.inject("delay", delay_seconds=1.0, count=1, route=V2)
    assert client_for(d6_emulator, timeout_seconds=0.3, max_retries=1).list_integrations() == []


def test_post_fallback_against_a_patchless_server(d6_emulator_factory: Factory) -> None:
    emu = d6_emulator_factory(seed=2, v2_state_methods=frozenset({"POST"}))
    client = client_for(emu)
    client.activate(1000, 8)
    client.activate(1001, 8)
    assert emu.admin.count(method="PATCH") == 1
    assert emu.admin.count(method="POST") == 2
    client_for(emu).activate(1000, 9)  # learnt per client: a new one asks PATCH first
    assert emu.admin.count(method="PATCH") == 2
    assert emu.admin.count(method="POST") == 3


def test_route_not_found_suggests_v1(d6_emulator_factory: Factory) -> None:
    emu = d6_emulator_factory(seed=1, api_versions=frozenset({"v1"}))
    with pytest.raises(errors.NotFoundError, match="try d6:apiVersion=v1"):
        client_for(emu).list_integrations()
    assert len(client_for(emu, api_version="v1").list_integrations()) == 2


def test_throttle_spaces_requests(d6_emulator: RunningEmulator) -> None:
    d6_emulator.admin.reset(seed=1)
    client = client_for(d6_emulator, requests_per_second=10)
    for _ in range(5):
        client.get_integration(1000, 8)
    stamps = [e["at"] for e in d6_emulator.admin.requests()["entries"]]
    assert stamps[-1] - stamps[0] >= 0.35


def test_debug_log_has_no_password(
    d6_emulator_factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="pulumi_d6")
    emu = d6_emulator_factory(seed=1, password="Distinct-Pw-4417")
    emu.admin.inject("status", status=503, route=V2)
    client_for(emu).activate(1000, 8)
    assert "retrying PATCH" in caplog.text
    assert "-> 200" in caplog.text
    assert "'HTTP-X-PASSWORD': '<redacted>'" in caplog.text
    assert "Distinct-Pw-4417" not in caplog.text


def test_a_base_url_without_the_api_root_says_so_first(d6_emulator: RunningEmulator) -> None:
    root = d6_emulator.base_url.removesuffix("/api")
    client = D6Client.from_settings({"base_url": root, "username": "demo", "password": "demo"})
    with pytest.raises(errors.NotFoundError) as missed:
        client.list_integrations()
    assert (
        str(missed.value)
        .split("(HTTP 404): ", 1)[1]
        .startswith(
            "route_not_found: d6:baseUrl (D6_BASE_URL) is the API root, which ends in /api "
            "(https://integrate.d6plus.co.za/api; the emulator's http://127.0.0.1:8787/api); else "
            "d6 does not serve this route"
        )
    )
