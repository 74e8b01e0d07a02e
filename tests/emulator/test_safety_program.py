"""Safety of the root program: discovery never deactivates by omission; contact details secret."""

from __future__ import annotations

import pulumi
import pytest

from pulumi_d6 import ClientIntegration
from pulumi_d6.declarations import ProgramConfigError
from pulumi_d6.emulator.pytest_plugin import RunningEmulator
from pulumi_d6.program import main

from ..mocking import run_program

V2 = "/api/v2/settings/clientintegrations"


def flags(mocks: object) -> dict[tuple[int, int], bool]:
    created = getattr(mocks, "created", [])
    return {
        (int(a.inputs["school_id"]), int(a.inputs["api_type_id"])): a.inputs[
            "deactivate_on_destroy"
        ]
        for a in created
    }


def test_discovered_entries_are_only_forgotten_explicit_ones_deactivated(
    monkeypatch: pytest.MonkeyPatch, d6_emulator: RunningEmulator
) -> None:
    d6_emulator.admin.reset(seed=3)
    config = {
        **d6_emulator.stack_config(),
        "d6-integrations:activateAllAuthorised": [8],
        "d6-integrations:integrations": [{"schoolId": 1000, "apiTypeId": 9}],
    }
    mocks, _ = run_program(monkeypatch, main, config)
    assert flags(mocks) == {(1000, 9): True, (1000, 8): False, (1001, 8): False, (1002, 8): False}


@pytest.mark.parametrize("value", [True, "true"])
def test_deactivate_undiscovered_opts_back_in(
    monkeypatch: pytest.MonkeyPatch, d6_emulator: RunningEmulator, value: object
) -> None:
    d6_emulator.admin.reset(seed=2)
    config = {
        **d6_emulator.stack_config(),
        "d6-integrations:activateAllAuthorised": [8],
        "d6-integrations:deactivateUndiscovered": value,
    }
    mocks, _ = run_program(monkeypatch, main, config)
    assert flags(mocks) == {(1000, 8): True, (1001, 8): True}


def test_an_invalid_deactivate_undiscovered_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    config = {"d6-integrations:deactivateUndiscovered": "sometimes"}
    with pytest.raises(ProgramConfigError, match="deactivateUndiscovered must be true or false"):
        run_program(monkeypatch, main, config)


def test_contact_details_are_registered_as_secret_outputs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def program() -> None:
        ClientIntegration("plain", school_id=1000, api_type_id=8)
        ClientIntegration(
            "own-secrets",
            school_id=1001,
            api_type_id=8,
            opts=pulumi.ResourceOptions(additional_secret_outputs=["school_name"]),
        )

    mocks, _ = run_program(monkeypatch, program, {})
    assert sorted(mocks.secret_outputs["plain"]) == ["admin_email_address", "telephone_number"]
    assert sorted(mocks.secret_outputs["own-secrets"]) == [
        "admin_email_address",
        "school_name",
        "telephone_number",
    ]


def test_the_root_program_exports_no_contact_detail(
    monkeypatch: pytest.MonkeyPatch, d6_emulator: RunningEmulator
) -> None:
    d6_emulator.admin.reset(seed=2)
    config = {**d6_emulator.stack_config(), "d6-integrations:activateAllAuthorised": [8]}
    mocks, exports = run_program(monkeypatch, main, config)
    assert set(exports) == {"managed", "activeCount"}
    assert "@" not in repr(exports)
    assert all(
        sorted(mocks.secret_outputs[a.name]) == ["admin_email_address", "telephone_number"]
        for a in mocks.created
    )
