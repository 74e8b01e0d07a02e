"""Safety of the root program: discovery never deactivates by omission; contact details secret."""

from __future__ import annotations

import pulumi
import pytest

from pulumi_d6 import ClientIntegration
from pulumi_d6.declarations import ProgramConfigError
from pulumi_d6.emulator.pytest_plugin import RunningEmulator
from pulumi_d6.program import main
from pulumi_d6.testing import ProgramRun, authorised, run_program

V2 = "/api/v2/settings/clientintegrations"


def flags(run: ProgramRun) -> dict[tuple[int, int], bool]:
    return {(i.school_id, i.api_type_id): i.deactivate_on_destroy for i in run.integrations}


def test_discovered_entries_are_only_forgotten_explicit_ones_deactivated(
    d6_emulator: RunningEmulator,
) -> None:
    d6_emulator.admin.reset(seed=3)
    config = {
        **d6_emulator.stack_config(),
        "d6-integrations:activateAllAuthorised": [8],
        "d6-integrations:integrations": [{"schoolId": 1000, "apiTypeId": 9}],
    }
    run = run_program(main, config, listing=None)
    assert flags(run) == {(1000, 9): True, (1000, 8): False, (1001, 8): False, (1002, 8): False}


@pytest.mark.parametrize("value", [True, "true"])
def test_deactivate_undiscovered_opts_back_in(d6_emulator: RunningEmulator, value: object) -> None:
    d6_emulator.admin.reset(seed=2)
    config = {
        **d6_emulator.stack_config(),
        "d6-integrations:activateAllAuthorised": [8],
        "d6-integrations:deactivateUndiscovered": value,
    }
    run = run_program(main, config, listing=None)
    assert flags(run) == {(1000, 8): True, (1001, 8): True}


def test_an_invalid_deactivate_undiscovered_names_the_key() -> None:
    config = {"d6-integrations:deactivateUndiscovered": "sometimes"}
    with pytest.raises(ProgramConfigError, match="deactivateUndiscovered must be true or false"):
        run_program(main, config)


def test_contact_details_are_registered_as_secret_outputs() -> None:
    def program() -> None:
        ClientIntegration("plain", school_id=1000, api_type_id=8)
        ClientIntegration(
            "own-secrets",
            school_id=1001,
            api_type_id=8,
            opts=pulumi.ResourceOptions(additional_secret_outputs=["school_name"]),
        )

    run = run_program(program)
    secret = {i.name: sorted(i.options.additional_secret_outputs) for i in run.integrations}
    assert secret["plain"] == ["admin_email_address", "telephone_number"]
    assert secret["own-secrets"] == [
        "admin_email_address",
        "school_name",
        "telephone_number",
    ]


def test_the_root_program_exports_no_contact_detail(d6_emulator: RunningEmulator) -> None:
    d6_emulator.admin.reset(seed=2)
    config = {**d6_emulator.stack_config(), "d6-integrations:activateAllAuthorised": [8]}
    run = run_program(main, config, listing=None)
    assert set(run.exports) == {"managed", "activeCount"}
    assert "@" not in repr(run.exports)
    assert run.integrations
    assert all(
        sorted(i.options.additional_secret_outputs) == ["admin_email_address", "telephone_number"]
        for i in run.integrations
    )


def test_a_fake_listing_drives_discovery_with_no_d6_at_all() -> None:
    """The same rule, checked the way a user's own test would: no emulator, no network."""
    config = {
        "d6-integrations:activateAllAuthorised": [8],
        "d6-integrations:integrations": [{"schoolId": 1000, "apiTypeId": 9}],
    }
    listing = [authorised(1000, 8), authorised(1001, 8, active=True), authorised(1001, 9)]
    run = run_program(main, config, listing=listing)
    assert flags(run) == {(1000, 9): True, (1000, 8): False, (1001, 8): False}
