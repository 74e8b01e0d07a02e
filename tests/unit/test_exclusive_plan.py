"""Exclusive mode in the root program under Pulumi's mocks: which entries, their names and flags,
and every bad value of the two keys refused with the key and the entry named."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_d6.declarations import (
    ProgramConfig,
    ProgramConfigError,
    from_stack_config,
    parse_program_config,
    plan,
)
from pulumi_d6.models import ClientIntegrationInfo
from pulumi_d6.program import main
from pulumi_d6.testing import authorised, run_program

NS = "d6-integrations"
LISTED = {
    8: [(1000, True), (1001, False), (1002, True), (1003, True), (1004, False)],
    9: [(1000, True), (1005, True)],
    10: [(1006, True), (1007, False)],
}


def lookup(api_type_id: int) -> list[ClientIntegrationInfo]:
    return [authorised(s, api_type_id, active=a) for s, a in LISTED.get(api_type_id, [])]


def registered(config: dict[str, Any]) -> dict[str, tuple[bool, bool]]:
    """The program run under Pulumi's mocks, its lookups answered from ``LISTED``: each
    resource's (active, deactivate_on_destroy), in the order of the stack output ``managed``."""
    listing = [info for type_id in LISTED for info in lookup(type_id)]
    run = run_program(main, config, listing=listing)
    by_id = {i.id: i for i in run.integrations}
    assert sorted(run.exports["managed"]) == sorted(by_id)
    flags = [by_id[id_] for id_ in run.exports["managed"]]
    return {i.name: (i.active, i.deactivate_on_destroy) for i in flags}


def test_declared_discovered_exclusive_and_ignored() -> None:
    config = {
        f"{NS}:integrations": [
            {"schoolId": 1000, "apiTypeId": 8},
            {"schoolId": 1003, "apiTypeId": 8, "active": False},
        ],
        f"{NS}:activateAllAuthorised": [9],
        f"{NS}:exclusiveApiTypes": [8, 9, 10],
        f"{NS}:exclusiveIgnore": ["1002/8", "1007/10"],
    }
    assert list(registered(config).items()) == [
        # declared, as written (deactivateOnDestroy defaults to true)
        ("school-1000-api-8", (True, True)),
        ("school-1003-api-8", (False, True)),
        # discovered: type 9 is also exclusive, but every listed school is discovered
        ("school-1000-api-9", (True, False)),
        ("school-1005-api-9", (True, False)),
        # exclusive: inactive, forget-only; 1002/8 and 1007/10 are ignored
        ("school-1001-api-8", (False, False)),
        ("school-1004-api-8", (False, False)),
        ("school-1006-api-10", (False, False)),
    ]


def test_without_exclusive_mode_nothing_undeclared_is_managed() -> None:
    config = {f"{NS}:integrations": [{"schoolId": 1000, "apiTypeId": 8}]}
    assert registered(config) == {"school-1000-api-8": (True, True)}


def test_the_same_name_whatever_made_the_entry() -> None:
    exclusive = plan(ProgramConfig(exclusive_api_types=(8,)), lookup)
    declared = plan(ProgramConfig(integrations=tuple(exclusive), exclusive_api_types=(8,)), lookup)
    discovered = plan(ProgramConfig(activate_all_authorised=(8,)), lookup)
    names = [e.resource_name for e in exclusive]
    assert names == [f"school-{s}-api-8" for s, _ in LISTED[8]]
    assert [e.resource_name for e in declared] == names
    assert [e.resource_name for e in discovered] == names


def test_an_empty_listing_plans_no_exclusive_entry() -> None:
    config = ProgramConfig(
        integrations=tuple(plan(ProgramConfig(exclusive_api_types=(8,)), lookup)[:1]),
        exclusive_api_types=(8,),
    )
    assert plan(config, lambda _: []) == list(config.integrations)


def test_an_integration_listed_twice_is_one_resource() -> None:
    """Two resources of one name would fail the whole `pulumi up` (a duplicate URN)."""
    twice = [authorised(1000, 8, active=True), authorised(1001, 8), authorised(1000, 8)]
    run = run_program(main, {f"{NS}:exclusiveApiTypes": [8]}, listing=twice)
    assert [i.name for i in run.integrations] == ["school-1000-api-8", "school-1001-api-8"]


def test_each_type_is_listed_once_per_plan() -> None:
    asked: list[int] = []

    def counting(api_type_id: int) -> list[ClientIntegrationInfo]:
        asked.append(api_type_id)
        return lookup(api_type_id)

    plan(ProgramConfig(activate_all_authorised=(8,), exclusive_api_types=(8, 10)), counting)
    assert asked == [8, 10]


def test_exclusive_mode_needs_a_lookup() -> None:
    with pytest.raises(ValueError, match="plan\\(\\) needs a lookup when exclusiveApiTypes is set"):
        plan(ProgramConfig(exclusive_api_types=(8,)))


def test_a_stack_file_declares_exclusive_mode() -> None:
    config = {
        "d6:maxDeactivations": "10",
        "estate:exclusiveApiTypes": [8, 9],
        "estate:exclusiveIgnore": ["1002/8", "1000/9"],
    }
    program = from_stack_config(config, "estate")
    assert program == ProgramConfig(
        exclusive_api_types=(8, 9), exclusive_ignore=((1002, 8), (1000, 9))
    )
    assert program.is_exclusive(1001, 8)
    assert not program.is_exclusive(1002, 8)
    assert not program.is_exclusive(1001, 10)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"exclusiveApiTypes": 8},
            "estate:exclusiveApiTypes must be a list of API type ids, got 8",
        ),
        (
            {"exclusiveApiTypes": [8, "nine"]},
            "estate:exclusiveApiTypes[1] must be a whole number greater than 0, got 'nine'",
        ),
        ({"exclusiveApiTypes": [8, 9, 8]}, "estate:exclusiveApiTypes[2] repeats API type 8"),
        (
            {"exclusiveApiTypes": [8], "exclusiveIgnore": "1000/8"},
            "estate:exclusiveIgnore must be a list of resource ids ('<schoolId>/<apiTypeId>'), "
            "got '1000/8'",
        ),
        (
            {"exclusiveApiTypes": [8], "exclusiveIgnore": ["1000-8"]},
            "estate:exclusiveIgnore[0]: invalid ClientIntegration id '1000-8': expected "
            "'<school_id>/<api_type_id>', e.g. '1000/8'",
        ),
        (
            {"exclusiveApiTypes": [8], "exclusiveIgnore": [1000]},
            "estate:exclusiveIgnore[0]: invalid ClientIntegration id 1000: expected",
        ),
        (
            {"exclusiveApiTypes": [8], "exclusiveIgnore": [f"{2**53}/8"]},
            f"estate:exclusiveIgnore[0]: invalid ClientIntegration id '{2**53}/8': expected "
            "'<school_id>/<api_type_id>', e.g. '1000/8': school_id must be a whole number greater "
            "than 0 and below 2**53",
        ),
        (
            {"exclusiveApiTypes": [8], "exclusiveIgnore": ["1000/8", "1001/8", "1000/8"]},
            "estate:exclusiveIgnore[2] repeats 1000/8 (first in estate:exclusiveIgnore[0])",
        ),
        (
            {"exclusiveApiTypes": [8], "exclusiveIgnore": ["8/1000"]},
            "estate:exclusiveIgnore[0] is 8/1000, but API type 1000 is not in "
            "estate:exclusiveApiTypes; ids are '<schoolId>/<apiTypeId>' (remove the entry when "
            "exclusive mode is off)",
        ),
        (
            {"exclusiveIgnore": ["1000/8"]},
            "estate:exclusiveIgnore[0] is 1000/8, but API type 8 is not in",
        ),
        (
            {"exclusiveApiType": [8]},
            "estate:exclusiveApiType is not a setting of the root program; known: "
            "estate:integrations, estate:activateAllAuthorised, estate:deactivateUndiscovered, "
            "estate:exclusiveApiTypes, estate:exclusiveIgnore",
        ),
    ],
)
def test_bad_exclusive_settings_name_the_key_and_entry(
    values: dict[str, Any], message: str
) -> None:
    with pytest.raises(ProgramConfigError) as refused:
        parse_program_config(values, "estate")
    assert str(refused.value).startswith(message)
    with pytest.raises(ProgramConfigError) as in_file:
        from_stack_config({f"estate:{k}": v for k, v in values.items()}, "estate", "Pulumi.a.yaml")
    assert str(in_file.value) == f"Pulumi.a.yaml: {refused.value}"


def test_the_program_refuses_them_too() -> None:
    config = {f"{NS}:exclusiveApiTypes": [8], f"{NS}:exclusiveIgnore": ["1000/8", "1000/8"]}
    with pytest.raises(ProgramConfigError, match=r"d6-integrations:exclusiveIgnore\[1\] repeats"):
        run_program(main, config, listing=lookup(8))
