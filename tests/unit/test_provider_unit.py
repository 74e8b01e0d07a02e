"""ClientIntegrationProvider called directly: check's input matrix, diff, ids and pickling."""

from __future__ import annotations

import base64
import math
from typing import Any

import dill
import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown

from pulumi_d6.errors import ResourceError
from pulumi_d6.models import parse_resource_id, resource_id
from pulumi_d6.provider import ClientIntegrationProvider

PASSWORD = "Provider-Unit-Pw-733"
UNKNOWN: Any = Unknown()  # type: ignore[no-untyped-call]
GOOD = {"school_id": 1000.0, "api_type_id": 8.0}


def check(**news: Any) -> tuple[dict[str, Any], dict[str, str]]:
    result = ClientIntegrationProvider().check({}, news)
    return result.inputs, {f.property: f.reason for f in result.failures}


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1000.0, 1000), (1000, 1000), ("1000", 1000), (" 42 ", 42), (1.0, 1), (2.0**40, 2**40)],
)
def test_ids_are_normalised_to_ints(value: Any, expected: int) -> None:
    inputs, failures = check(school_id=value, api_type_id=8.0)
    assert failures == {}
    assert inputs["school_id"] == expected
    assert type(inputs["school_id"]) is int


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (1000.5, "school_id must be a whole number greater than 0, got 1000.5"),
        (True, "school_id must be a whole number greater than 0, got a boolean (true)"),
        (False, "school_id must be a whole number greater than 0, got a boolean (false)"),
        (0, "school_id must be a whole number greater than 0, got 0"),
        (0.0, "school_id must be a whole number greater than 0, got 0"),
        (-5.0, "school_id must be a whole number greater than 0, got -5"),
        ("-5", "school_id must be a whole number greater than 0, got '-5'"),
        ("abc", "school_id must be a whole number greater than 0, got 'abc'"),
        ("", "school_id must be a whole number greater than 0, got ''"),
        ("1e3", "school_id must be a whole number greater than 0, got '1e3'"),
        (math.nan, "school_id must be a whole number greater than 0, got nan"),
        (math.inf, "school_id must be a whole number greater than 0, got inf"),
        ([1000], "school_id must be a whole number greater than 0, got [1000]"),
        ({"id": 1}, "school_id must be a whole number greater than 0, got {'id': 1}"),
        (None, "school_id is required: must be a whole number greater than 0"),
    ],
)
def test_bad_ids_fail_naming_the_field(value: Any, reason: str) -> None:
    inputs, failures = check(school_id=value, api_type_id=8.0)
    assert failures == {"school_id": reason}
    assert "school_id" not in inputs


def test_missing_ids_fail_both() -> None:
    _, failures = check()
    assert failures == {
        "school_id": "school_id is required: must be a whole number greater than 0",
        "api_type_id": "api_type_id is required: must be a whole number greater than 0",
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("true", True), ("FALSE", False), (None, True)],
)
def test_flags_are_booleans_with_defaults(value: Any, expected: bool) -> None:
    inputs, failures = check(**GOOD, active=value, deactivate_on_destroy=value)
    assert failures == {}
    assert inputs["active"] is expected
    assert inputs["deactivate_on_destroy"] is expected


@pytest.mark.parametrize(
    ("value", "shown"),
    [(1.0, "1"), (0, "0"), ("yes", "'yes'"), ([True], "[True]")],
)
def test_bad_flags_fail_naming_the_field(value: Any, shown: str) -> None:
    _, failures = check(**GOOD, active=value, deactivate_on_destroy=value)
    assert failures == {
        "active": f"active must be true or false, got {shown}",
        "deactivate_on_destroy": f"deactivate_on_destroy must be true or false, got {shown}",
    }


def test_unknowns_pass_through_check() -> None:
    unknown = UNKNOWN
    inputs, failures = check(school_id=unknown, api_type_id=unknown, active=unknown)
    assert failures == {}
    assert inputs["school_id"] is unknown
    assert inputs["active"] is unknown


def test_check_drops_anything_not_declared() -> None:
    inputs, _ = check(**GOOD, school_name=None, extra="x")
    assert set(inputs) == {"school_id", "api_type_id", "active", "deactivate_on_destroy"}


# -------------------------------------------------------------------- diff

STATE = {
    "school_id": 1000.0, "api_type_id": 8.0, "active": True, "deactivate_on_destroy": True,
    "school_name": "X", "__provider": "old-pickle",
}  # fmt: skip


def diff(**news: Any) -> tuple[bool | None, list[str]]:
    result = ClientIntegrationProvider().diff(
        "1000/8", STATE, {**GOOD, **news, "__provider": "new"}
    )
    return result.changes, list(result.replaces or [])


def test_diff_ignores_float_vs_int_provider_and_descriptive_outputs() -> None:
    assert diff(school_id=1000, active=True, deactivate_on_destroy=True) == (False, [])


def test_diff_updates_and_replaces() -> None:
    assert diff(active=False) == (True, [])
    assert diff(deactivate_on_destroy=False) == (True, [])
    assert diff(school_id=1001.0) == (True, ["school_id"])
    assert diff(api_type_id=9.0, active=False) == (True, ["api_type_id"])


def test_diff_treats_unknown_as_changed() -> None:
    assert diff(active=UNKNOWN) == (True, [])
    assert diff(school_id=UNKNOWN) == (True, ["school_id"])


def test_diff_defaults_missing_flags_in_old_state() -> None:
    old = {"school_id": 1000.0, "api_type_id": 8.0, "active": True}
    result = ClientIntegrationProvider().diff(
        "1000/8", old, {**GOOD, "active": True, "deactivate_on_destroy": True}
    )
    assert result.changes is False


# ------------------------------------------------------------- ids, pickle


BAD_IDS = ["1000", "1000/", "/8", "a/b", "1000/8/1", "0/8", "-1/8", "", "9007199254740992/8"]


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize("call", ["read", "delete"])
def test_read_and_delete_refuse_a_malformed_id_before_any_request(bad: str, call: str) -> None:
    """A hand-edited state id is a resource error naming it; no client is even built
    (the provider is not configured, so reaching d6 would fail with a settings error)."""
    provider = ClientIntegrationProvider()
    with pytest.raises(ResourceError, match="expected '<school_id>/<api_type_id>'") as err:
        getattr(provider, call)(bad, {"active": True, "deactivate_on_destroy": True})
    assert str(err.value).startswith(f"invalid ClientIntegration id {bad!r}")
    assert provider._connected is None


def test_parse_resource_id_reads_back_resource_id() -> None:
    assert resource_id(1000, 8) == "1000/8"
    assert parse_resource_id("1000/8") == (1000, 8)
    assert parse_resource_id(resource_id(2**53 - 1, 1)) == (2**53 - 1, 1)


def test_a_configured_provider_pickles_without_settings_or_client() -> None:
    provider = ClientIntegrationProvider()
    config = {"d6:username": "u", "d6:password": PASSWORD, "d6:baseUrl": "http://127.0.0.1:9/api"}
    provider.configure(ConfigureRequest(Config(config, "d6-integrations")))
    provider._connection()
    blob = serialize_provider(provider)
    raw = base64.b64decode(blob)
    assert PASSWORD.encode() not in raw
    restored = dill.loads(raw)
    assert isinstance(restored, ClientIntegrationProvider)
    assert vars(restored) == {}
    assert blob == serialize_provider(ClientIntegrationProvider()), "state never depends on config"
