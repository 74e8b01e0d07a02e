"""diff, from what the engine holds to what the program declares: which change it plans."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_d6.provider import ClientIntegrationProvider

STATE = {"school_id": 1000, "api_type_id": 8, "active": True, "deactivate_on_destroy": True}


def planned(olds: dict[str, Any], news: dict[str, Any]) -> tuple[bool | None, list[str]]:
    result = ClientIntegrationProvider().diff("1000/8", olds, news)
    return result.changes, list(result.replaces or [])


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ({"active": False}, {"active": True}, (True, [])),
        ({"deactivate_on_destroy": False}, {"deactivate_on_destroy": True}, (True, [])),
        ({"active": True}, {"active": False}, (True, [])),
        ({"school_id": 1000.0}, {"school_id": 1000}, (False, [])),
        ({"school_id": 999}, {"school_id": 1000}, (True, ["school_id"])),
        ({"api_type_id": 9.0}, {"api_type_id": 8}, (True, ["api_type_id"])),
        ({"school_id": None}, {"school_id": 1000}, (True, ["school_id"])),
    ],
    ids=[
        "activate",
        "deactivate-on-destroy on",
        "deactivate",
        "same id as float",
        "school",
        "api type",
        "id missing in state",
    ],
)
def test_what_changed_decides_the_step(
    old: dict[str, Any], new: dict[str, Any], expected: tuple[bool, list[str]]
) -> None:
    assert planned({**STATE, **old}, {**STATE, **new}) == expected


@pytest.mark.parametrize("flag", ["active", "deactivate_on_destroy"])
def test_a_flag_missing_on_either_side_means_its_default(flag: str) -> None:
    without = {k: v for k, v in STATE.items() if k != flag}
    assert planned(without, STATE) == (False, [])
    assert planned(STATE, without) == (False, [])
    assert planned({**STATE, flag: False}, without) == (True, [])
