"""A stack file away from its Pulumi.yaml: drift and codegen --write read its own project."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pulumi_d6 import cli
from pulumi_d6.emulator.pytest_plugin import RunningEmulator

runner = CliRunner()
PASSWORD = "Lone-Stack-Pw-5120"


@pytest.fixture
def emu(d6_emulator_factory: Any) -> RunningEmulator:
    running: RunningEmulator = d6_emulator_factory(seed=3, password=PASSWORD)
    running.admin.set_active(1000, 8, True)
    running.admin.set_active(1001, 8, True)
    return running


def invoke(emu: RunningEmulator, *args: str) -> Any:
    env = {"D6_USERNAME": emu.username, "D6_PASSWORD": PASSWORD, "D6_BASE_URL": emu.base_url}
    result = runner.invoke(cli.app, list(args), env=env)
    assert PASSWORD not in result.stdout + result.stderr
    return result


def lone(tmp_path: Path, keys: str) -> Path:
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text("config:\n  d6:username: demo\n" + keys)
    return path


DECLARED = "  aa:integrations:\n    - {schoolId: 1000, apiTypeId: 8}\n"


def test_drift_reads_the_files_own_project_and_says_so(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    stack = lone(tmp_path, DECLARED)
    result = invoke(emu, "drift", "--stack-config", str(stack), "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["in_sync"] == 1
    assert [(r["school_id"], r["api_type_id"]) for r in report["unmanaged_active"]] == [(1001, 8)]
    assert "project aa taken from its keys" in " ".join(result.stderr.split())


def test_codegen_write_adds_to_the_files_own_block(emu: RunningEmulator, tmp_path: Path) -> None:
    stack = lone(tmp_path, DECLARED)
    assert invoke(emu, "codegen", "--write", str(stack)).exit_code == 0
    text = stack.read_text()
    assert "d6-integrations:" not in text
    assert "schoolId: 1001" in text


def test_a_misspelled_key_in_a_lone_stack_file_is_refused(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    stack = lone(tmp_path, DECLARED + "  aa:activateAllAuthorized: [8]\n")
    for command in (["codegen", "--write", str(stack)], ["drift", "--stack-config", str(stack)]):
        result = invoke(emu, *command)
        assert result.exit_code == cli.EXIT_USAGE, command
        assert "aa:activateAllAuthorized is not a setting of the root program" in " ".join(
            result.stderr.split()
        ), command


def test_several_projects_in_a_lone_stack_file_ask_for_project(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    stack = lone(tmp_path, DECLARED + "  bb:exclusiveApiTypes: [8]\n")
    result = invoke(emu, "drift", "--stack-config", str(stack))
    assert result.exit_code == cli.EXIT_USAGE
    assert "give the project with --project NAME" in " ".join(result.stderr.split())
    chosen = invoke(emu, "drift", "--stack-config", str(stack), "--project", "aa")
    assert chosen.exit_code == cli.EXIT_USAGE, "bb:exclusiveApiTypes is then refused"
    assert "rename it to aa:exclusiveApiTypes" in " ".join(chosen.stderr.split())
