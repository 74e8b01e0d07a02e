"""Bad-input audit: `check` normalises or names the field for anything, and never raises."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pulumi.output import Unknown

from pulumi_d6.provider import ClientIntegrationProvider

FIELDS = ("school_id", "api_type_id", "active", "deactivate_on_destroy")
UNKNOWN: Any = Unknown()  # type: ignore[no-untyped-call]

json_like = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**52, max_value=2**64)
    | st.text(alphabet="0123456789", min_size=15, max_size=5000)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.just(UNKNOWN),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
news_strategy = st.dictionaries(st.sampled_from(FIELDS), json_like) | st.fixed_dictionaries(
    {f: json_like for f in FIELDS},
    optional={"extra": json_like, "__provider": st.text(max_size=10)},
)


def assert_well_formed(news: dict[str, Any]) -> None:
    result = ClientIntegrationProvider().check({}, news)
    failed = {f.property for f in result.failures}
    assert failed <= set(FIELDS)
    for failure in result.failures:
        assert failure.reason.startswith(failure.property), failure.reason
        assert len(failure.reason) <= 400, failure.reason
        assert "\n" not in failure.reason
    for field in FIELDS:
        if field in failed:
            assert field not in result.inputs
            continue
        value = result.inputs[field]
        if isinstance(value, Unknown):
            continue
        if field in ("school_id", "api_type_id"):
            assert type(value) is int
            assert 0 < value < 2**53
        else:
            assert type(value) is bool
    assert set(result.inputs) <= set(FIELDS)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(news_strategy)
def test_check_never_raises_on_arbitrary_values(news: dict[str, Any]) -> None:
    assert_well_formed(news)


CURATED: list[tuple[dict[str, Any], dict[str, Any] | set[str]]] = [
    (
        {"school_id": 1000.0, "api_type_id": 8.0},
        {"school_id": 1000, "api_type_id": 8, "active": True, "deactivate_on_destroy": True},
    ),
    (
        {"school_id": 1000, "api_type_id": 8},
        {"school_id": 1000, "api_type_id": 8, "active": True, "deactivate_on_destroy": True},
    ),
    (
        {"school_id": "1000", "api_type_id": "8"},
        {"school_id": 1000, "api_type_id": 8, "active": True, "deactivate_on_destroy": True},
    ),
    (
        {"school_id": 1.0, "api_type_id": 1.0, "active": False},
        {"school_id": 1, "api_type_id": 1, "active": False, "deactivate_on_destroy": True},
    ),
    (
        {"school_id": 2.0**53 - 1, "api_type_id": 8.0},
        {"school_id": 2**53 - 1, "api_type_id": 8, "active": True, "deactivate_on_destroy": True},
    ),
    ({"school_id": 2.0**53, "api_type_id": 8.0}, {"school_id"}),  # 2**53 + 1 arrives as this
    ({"school_id": 2**63, "api_type_id": 1e300}, {"school_id", "api_type_id"}),
    ({"school_id": "9" * 30, "api_type_id": "1" * 5000}, {"school_id", "api_type_id"}),
    ({"school_id": "0" * 5000 + "7", "api_type_id": 10**5000}, {"api_type_id"}),
    (
        {"school_id": 1000.0, "api_type_id": 8.0, "active": "TRUE"},
        {"school_id": 1000, "api_type_id": 8, "active": True, "deactivate_on_destroy": True},
    ),
    (
        {"school_id": 1000.0, "api_type_id": 8.0, "deactivate_on_destroy": "false"},
        {"school_id": 1000, "api_type_id": 8, "active": True, "deactivate_on_destroy": False},
    ),
    (
        {"school_id": 1000.0, "api_type_id": 8.0, "active": None},
        {"school_id": 1000, "api_type_id": 8, "active": True, "deactivate_on_destroy": True},
    ),
    ({}, {"school_id", "api_type_id"}),
    ({"school_id": None, "api_type_id": None}, {"school_id", "api_type_id"}),
    ({"school_id": 1000.5, "api_type_id": 8.0}, {"school_id"}),
    ({"school_id": True, "api_type_id": 8.0}, {"school_id"}),
    ({"school_id": 1000.0, "api_type_id": False}, {"api_type_id"}),
    ({"school_id": 0, "api_type_id": 8}, {"school_id"}),
    ({"school_id": -1.0, "api_type_id": 8}, {"school_id"}),
    ({"school_id": -0.0, "api_type_id": 8}, {"school_id"}),
    ({"school_id": math.nan, "api_type_id": 8}, {"school_id"}),
    ({"school_id": math.inf, "api_type_id": -math.inf}, {"school_id", "api_type_id"}),
    ({"school_id": "", "api_type_id": " "}, {"school_id", "api_type_id"}),
    ({"school_id": "10 00", "api_type_id": "8a"}, {"school_id", "api_type_id"}),
    ({"school_id": "0x10", "api_type_id": "1e2"}, {"school_id", "api_type_id"}),
    ({"school_id": "١٢٣", "api_type_id": 8}, {"school_id"}),  # non-ASCII digits
    ({"school_id": [1000], "api_type_id": {"id": 8}}, {"school_id", "api_type_id"}),
    ({"school_id": 1000, "api_type_id": 8, "active": 1}, {"active"}),
    ({"school_id": 1000, "api_type_id": 8, "active": 0.0}, {"active"}),
    ({"school_id": 1000, "api_type_id": 8, "active": "yes"}, {"active"}),
    ({"school_id": 1000, "api_type_id": 8, "active": "on"}, {"active"}),
    ({"school_id": 1000, "api_type_id": 8, "active": []}, {"active"}),
    ({"school_id": 1000, "api_type_id": 8, "deactivate_on_destroy": {}}, {"deactivate_on_destroy"}),
    (
        {"school_id": 1000, "api_type_id": 8, "deactivate_on_destroy": "maybe"},
        {"deactivate_on_destroy"},
    ),
    (
        {"school_id": 1.5, "api_type_id": 2.5, "active": 3, "deactivate_on_destroy": "x"},
        set(FIELDS),
    ),
    (
        {"school_id": UNKNOWN, "api_type_id": 8.0, "active": UNKNOWN},
        {"school_id": UNKNOWN, "api_type_id": 8, "active": UNKNOWN, "deactivate_on_destroy": True},
    ),
]


@pytest.mark.parametrize(("news", "expected"), CURATED)
def test_curated_inputs(news: dict[str, Any], expected: dict[str, Any] | set[str]) -> None:
    assert_well_formed(news)
    result = ClientIntegrationProvider().check({}, news)
    if isinstance(expected, set):
        assert {f.property for f in result.failures} == expected
    else:
        assert result.failures == []
        assert result.inputs == expected


REASONS = [
    (
        {"api_type_id": 8},
        "school_id",
        "school_id is required: must be a whole number greater than 0",
    ),
    (
        {"school_id": 1000.5, "api_type_id": 8},
        "school_id",
        "school_id must be a whole number greater than 0, got 1000.5",
    ),
    (
        {"school_id": True, "api_type_id": 8},
        "school_id",
        "school_id must be a whole number greater than 0, got a boolean (true)",
    ),
    (
        {"school_id": 1000, "api_type_id": 2.0**53},
        "api_type_id",
        "api_type_id must be a whole number greater than 0 and below 2**53, got 9007199254740992: "
        "ids from 2**53 (9007199254740992) up cannot be carried exactly, because the Pulumi "
        "engine sends numbers as doubles, so it could name another school",
    ),
    (
        {"school_id": 1000, "api_type_id": 8, "active": "yes"},
        "active",
        "active must be true or false, got 'yes'",
    ),
    (
        {"school_id": 1000, "api_type_id": 8, "deactivate_on_destroy": 1},
        "deactivate_on_destroy",
        "deactivate_on_destroy must be true or false, got 1",
    ),
]


@pytest.mark.parametrize(("news", "field", "reason"), REASONS)
def test_each_failure_names_its_field_and_what_is_expected(
    news: dict[str, Any], field: str, reason: str
) -> None:
    """The exact text `pulumi preview` shows beside the field."""
    result = ClientIntegrationProvider().check({}, news)
    assert [(f.property, f.reason) for f in result.failures] == [(field, reason)]
