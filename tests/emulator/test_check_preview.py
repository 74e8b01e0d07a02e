"""`pulumi-d6 check-preview --live` against the emulator: only what d6 shows active counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from pulumi_d6 import cli
from pulumi_d6.emulator.pytest_plugin import RunningEmulator

FIXTURES = Path(__file__).parents[1] / "unit" / "fixtures" / "pulumi-preview"
PASSWORD = "Check-Preview-Pw-5120"
runner = CliRunner()


def invoke(emu: RunningEmulator, *args: str) -> Any:
    env = {"D6_USERNAME": "demo", "D6_PASSWORD": PASSWORD, "D6_BASE_URL": emu.base_url}
    result = runner.invoke(cli.app, ["check-preview", *args], env={**env, "COLUMNS": "200"})
    assert PASSWORD not in result.stdout + result.stderr
    return result


def test_live_counts_only_integrations_d6_shows_active(d6_emulator_factory: Any) -> None:
    emu: RunningEmulator = d6_emulator_factory(seed=12, password=PASSWORD)
    for school in (1000, 1004, 1008):
        emu.admin.set_active(school, 8, True)
    plan = str(FIXTURES / "plan.json")
    result = invoke(emu, plan, "--max-deactivations", "3", "--live", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert [d["school_id"] for d in report["deactivations"]] == [1000, 1004, 1008]
    assert report["live_checked"] is True
    assert emu.admin.count(method="PATCH") == 0  # the gate reads, never changes
    without_live = invoke(emu, plan, "--max-deactivations", "3")
    assert without_live.exit_code == 1


def test_live_makes_no_call_when_nothing_is_planned(d6_emulator_factory: Any) -> None:
    emu: RunningEmulator = d6_emulator_factory(seed=2, password=PASSWORD)
    emu.admin.clear_requests()
    result = invoke(emu, str(FIXTURES / "noop.json"), "--max-deactivations", "0", "--live")
    assert result.exit_code == 0
    assert emu.admin.count() == 0
