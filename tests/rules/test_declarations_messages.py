"""The one parser of the root program's keys: exact refusals, defaults and the planned entries.

Each test pins what a user reads or gets (a message, a flag, an entry), so that a changed word,
default or rule in ``declarations`` fails here, in-process.
"""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_d6.declarations import (
    ProgramConfig,
    ProgramConfigError,
    declared_and_discovered,
    from_stack_config,
    parse_integrations,
    parse_program_config,
    parse_resource_ids,
    plan,
)
from pulumi_d6.integration import IntegrationSpec
from pulumi_d6.models import ClientIntegrationInfo
from pulumi_d6.testing import authorised

NS = "d6-integrations"
KNOWN = (
    "integrations, activateAllAuthorised, deactivateUndiscovered, exclusiveApiTypes, "
    "exclusiveIgnore"
)


def refusal(call: Any, *args: Any) -> str:
    with pytest.raises(ProgramConfigError) as caught:
        call(*args)
    return str(caught.value)


def test_unknown_entry_keys_are_listed_with_the_allowed_ones() -> None:
    entry = {"schoolId": 1000, "apiTypeId": 8, "enabled": True, "Active": False}
    assert refusal(parse_integrations, [entry]) == (
        "integrations[0] has unknown key(s) Active, enabled; "
        "allowed: active, apiTypeId, deactivateOnDestroy, schoolId"
    )


def test_an_explicit_entry_defaults_to_active_and_deactivate_on_destroy() -> None:
    (entry,) = parse_integrations([{"schoolId": 1000, "apiTypeId": 8}])
    assert entry.active is True
    assert entry.deactivate_on_destroy is True


def test_without_a_namespace_keys_are_named_bare() -> None:
    assert refusal(parse_program_config, {"bogus": 1}) == (
        f"bogus is not a setting of the root program; known: {KNOWN}"
    )
    assert refusal(parse_program_config, {"exclusiveIgnore": ["1000/8"]}) == (
        "exclusiveIgnore[0] is 1000/8, but API type 8 is not in exclusiveApiTypes; ids are "
        "'<schoolId>/<apiTypeId>' (remove the entry when exclusive mode is off)"
    )


def test_a_long_unknown_key_is_cut_short_in_the_message() -> None:
    key = "x" * 100
    message = refusal(parse_program_config, {key: 1}, NS)
    assert message.startswith(f"{NS}:{'x' * 39}… is not a setting of the root program; ")


def test_from_stack_config_without_a_file_name_keeps_the_message() -> None:
    config = {f"{NS}:integrations": [{"schoolId": 1000}]}
    assert refusal(from_stack_config, config, NS) == f"{NS}:integrations[0].apiTypeId is required"
    assert refusal(from_stack_config, config, NS, "Pulumi.dev.yaml") == (
        f"Pulumi.dev.yaml: {NS}:integrations[0].apiTypeId is required"
    )


def test_exclusive_ignore_is_the_default_name_of_resource_ids() -> None:
    assert refusal(parse_resource_ids, "1000/8") == (
        "exclusiveIgnore must be a list of resource ids ('<schoolId>/<apiTypeId>'), got '1000/8'"
    )


@pytest.mark.parametrize(
    ("program", "key"),
    [
        (ProgramConfig(activate_all_authorised=(8,)), "activateAllAuthorised"),
        (ProgramConfig(exclusive_api_types=(8,)), "exclusiveApiTypes"),
    ],
)
def test_a_listing_key_without_a_lookup_names_the_key(program: ProgramConfig, key: str) -> None:
    with pytest.raises(ValueError, match=rf"^plan\(\) needs a lookup when {key} is set$"):
        plan(program)


def test_a_school_listed_twice_is_discovered_once() -> None:
    """A listing that repeats a row (two pages overlapping) must not declare it twice."""

    def lookup(api_type_id: int) -> list[ClientIntegrationInfo]:
        return [authorised(1000, api_type_id), authorised(1000, api_type_id)]

    program = ProgramConfig(activate_all_authorised=(8,))
    assert declared_and_discovered(program, lookup) == [
        IntegrationSpec(1000, 8, deactivate_on_destroy=False)
    ]
