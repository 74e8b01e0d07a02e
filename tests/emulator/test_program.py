"""The root program: both config forms, invalid config naming the entry, and the committed stack."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest
import yaml

from pulumi_d6.declarations import ProgramConfigError, parse_api_types, parse_integrations
from pulumi_d6.emulator.pytest_plugin import RunningEmulator
from pulumi_d6.program import main
from pulumi_d6.testing import ProgramRun, run_program

ROOT = Path(__file__).resolve().parents[2]


def keys(run: ProgramRun) -> list[tuple[int, int, bool]]:
    return [(i.school_id, i.api_type_id, i.active) for i in run.integrations]


def d6(emu: RunningEmulator) -> dict[str, str]:
    return {"d6:baseUrl": emu.base_url, "d6:username": emu.username, "d6:password": emu.password}


def test_declared_integrations(monkeypatch: pytest.MonkeyPatch) -> None:
    config = {
        "d6-integrations:integrations": [
            {"schoolId": 1000, "apiTypeId": 8},
            {"schoolId": 1001, "apiTypeId": 9, "active": False, "deactivateOnDestroy": False},
        ]
    }
    run = run_program(main, config)
    assert sorted(keys(run)) == [(1000, 8, True), (1001, 9, False)]
    by_name = {a.name: a for a in run.integrations}
    assert sorted(by_name) == ["school-1000-api-8", "school-1001-api-9"]
    assert by_name["school-1001-api-9"].inputs["deactivate_on_destroy"] is False
    assert run.exports == {"managed": ["1000/8", "1001/9"], "activeCount": 1}


def test_activate_all_authorised_follows_the_live_listing(
    monkeypatch: pytest.MonkeyPatch, d6_emulator: RunningEmulator
) -> None:
    d6_emulator.admin.reset(seed=12)  # 24 integrations: listing them takes pages
    d6_emulator.admin.revoke(1003, 9)
    config = {
        **d6(d6_emulator),
        "d6-integrations:activateAllAuthorised": [9],
        "d6-integrations:integrations": [{"schoolId": 1000, "apiTypeId": 9, "active": False}],
    }
    run = run_program(main, config, listing=None)
    exports = run.exports
    found = sorted(keys(run))
    assert found[0] == (1000, 9, False), "the explicit entry wins"
    auto = found[1:]
    assert [k[0] for k in auto] == [s for s in range(1001, 1012) if s != 1003]
    assert all(k[1:] == (9, True) for k in auto)
    assert exports["activeCount"] == 10
    assert len(exports["managed"]) == 11


def test_newly_authorised_schools_are_picked_up(
    monkeypatch: pytest.MonkeyPatch, d6_emulator: RunningEmulator
) -> None:
    d6_emulator.admin.reset(seed=1)
    config = {**d6(d6_emulator), "d6-integrations:activateAllAuthorised": [8]}
    first = run_program(main, config, listing=None)
    d6_emulator.admin.authorise(2000, 8)
    second = run_program(main, config, listing=None)
    assert sorted(i.school_id for i in first.integrations) == [1000]
    assert sorted(i.school_id for i in second.integrations) == [1000, 2000]


def test_no_config_means_no_resources() -> None:
    run = run_program(main, {})
    assert run.integrations == []
    assert run.exports == {"managed": [], "activeCount": 0}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"schoolId": 1}, "integrations must be a list of entries, got {'schoolId': 1}"),
        ([{"apiTypeId": 8}], "integrations[0].schoolId is required"),
        ([{"schoolId": 1000}], "integrations[0].apiTypeId is required"),
        (
            [{"schoolId": 1, "apiTypeId": 8}, {"schoolId": "x", "apiTypeId": 8}],
            "integrations[1].schoolId must be a whole number greater than 0, got 'x'",
        ),
        (
            [{"schoolId": 1, "apiTypeId": 8.5}],
            "integrations[0].apiTypeId must be a whole number greater than 0, got 8.5",
        ),
        (
            [{"schoolId": 0, "apiTypeId": 8}],
            "integrations[0].schoolId must be a whole number greater than 0, got 0",
        ),
        (
            [{"schoolId": True, "apiTypeId": 8}],
            "integrations[0].schoolId must be a whole number greater than 0, got a boolean (true)",
        ),
        (
            [{"schoolId": 1, "apiTypeId": 8, "active": "yes"}],
            "integrations[0].active must be true or false, got 'yes'",
        ),
        (
            [{"schoolId": 1, "apiTypeId": 8, "deactivateOnDestroy": 0}],
            "integrations[0].deactivateOnDestroy must be true or false, got 0",
        ),
        (
            [{"schoolId": 1, "apiTypeId": 8, "school": 2}],
            "integrations[0] has unknown key(s) school",
        ),
        (["1000/8"], "integrations[0] must be a mapping with schoolId and apiTypeId, got '1000/8'"),
        (
            [{"schoolId": 2**53 + 1, "apiTypeId": 8}],
            "integrations[0].schoolId must be a whole number greater than 0 and below 2**53, got "
            "9007199254740993: ids from 2**53 (9007199254740992) up cannot be carried exactly",
        ),
        (
            [{"schoolId": "1" * 5000, "apiTypeId": 8}],
            "integrations[0].schoolId must be a whole number greater than 0 and below 2**53, got "
            "'" + "1" * 38 + "…",
        ),
        (
            [{"schoolId": 1, "apiTypeId": 8, "x" * 100_000: 1}],
            "integrations[0] has unknown key(s) " + "x" * 39 + "…; allowed",
        ),
        (
            [
                {"schoolId": 7, "apiTypeId": 8},
                {"schoolId": 9, "apiTypeId": 8},
                {"schoolId": 7, "apiTypeId": 8},
            ],
            "integrations[2] declares school 7 / API type 8 again (first in integrations[0])",
        ),
    ],
)
def test_invalid_integrations_name_the_entry(raw: Any, message: str) -> None:
    with pytest.raises(ProgramConfigError) as err:
        parse_integrations(raw)
    assert str(err.value).startswith(message)
    assert len(str(err.value)) <= 400


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (8, "activateAllAuthorised must be a list of API type ids, got 8"),
        (
            ["eight"],
            "activateAllAuthorised[0] must be a whole number greater than 0, got 'eight'",
        ),
        ([8, 9, 8], "activateAllAuthorised[2] repeats API type 8"),
    ],
)
def test_invalid_api_types_name_the_entry(raw: Any, message: str) -> None:
    with pytest.raises(ProgramConfigError) as err:
        parse_api_types(raw)
    assert str(err.value) == message


def test_invalid_config_fails_the_program_run() -> None:
    config = {"d6-integrations:integrations": [{"schoolId": 1000}]}
    with pytest.raises(ProgramConfigError, match=r"integrations\[0\]\.apiTypeId is required"):
        run_program(main, config)


def test_unknown_keys_of_the_project_fail_the_program_run(monkeypatch: pytest.MonkeyPatch) -> None:
    config = {"d6-integrations:activateAllAuthorized": [8], "other:key": "kept apart"}
    with pytest.raises(ProgramConfigError) as err:
        run_program(main, config)
    assert str(err.value) == (
        "d6-integrations:activateAllAuthorized is not a setting of the root program; known: "
        "d6-integrations:integrations, d6-integrations:activateAllAuthorised, "
        "d6-integrations:deactivateUndiscovered, d6-integrations:exclusiveApiTypes, "
        "d6-integrations:exclusiveIgnore"
    )


def test_string_values_from_config_are_accepted() -> None:
    entries = parse_integrations([{"schoolId": "1000", "apiTypeId": "8", "active": "false"}])
    assert (entries[0].school_id, entries[0].api_type_id, entries[0].active) == (1000, 8, False)


def test_the_committed_dev_stack_runs_the_root_program(
    monkeypatch: pytest.MonkeyPatch, d6_emulator: RunningEmulator
) -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == "d6-integrations"
    assert project["runtime"] == {
        "name": "python",
        "options": {"toolchain": "pip", "virtualenv": ".venv"},
    }
    stack = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    assert stack["d6:baseUrl"] == "http://127.0.0.1:8787/api"
    assert "d6:password" not in stack, "the demo password comes from D6_PASSWORD, not the file"
    d6_emulator.admin.reset(seed=5)
    monkeypatch.setenv("D6_PASSWORD", d6_emulator.password)
    config = {**stack, "d6:baseUrl": d6_emulator.base_url}
    run = run_program(lambda: runpy.run_path(str(ROOT / "__main__.py")), config, listing=None)
    declared = [k for k in keys(run) if k[1] == 8]
    assert sorted(declared) == [(1000, 8, True), (1001, 8, True), (1002, 8, False)]
    assert sorted(k for k in keys(run) if k[1] == 9) == [(s, 9, True) for s in range(1000, 1005)]
    assert run.exports["activeCount"] == 7
