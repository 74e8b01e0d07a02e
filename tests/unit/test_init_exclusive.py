"""`pulumi-d6 init --exclusive-api-types`: the stack file turns exclusive mode on, and the
program the repository runs reads it so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from pulumi_d6 import cli
from pulumi_d6.declarations import ProgramConfig, from_stack_config
from pulumi_d6.testing import authorised, run_project

PIN = "pulumi-d6 @ git+https://github.com/acme/pulumi-d6.git@0123abc"
runner = CliRunner()


def init(repo: Path, *args: str) -> Any:
    return runner.invoke(
        cli.app, ["init", str(repo), "--requirement", PIN, *args], env={"COLUMNS": "300"}
    )


def test_the_flag_writes_both_keys_and_says_so(tmp_path: Path) -> None:
    repo = tmp_path / "estate"
    result = init(repo, "--exclusive-api-types", "8, 9")
    assert result.exit_code == 0, result.stderr
    assert "  estate:exclusiveApiTypes: API type(s) 8, 9" in result.stdout.splitlines()
    text = (repo / "Pulumi.prod.yaml").read_text()
    assert "  estate:exclusiveIgnore: []\n" in text
    config = yaml.safe_load(text)["config"]
    assert from_stack_config(config, "estate") == ProgramConfig(exclusive_api_types=(8, 9))


def test_the_generated_program_keeps_undeclared_integrations_inactive(tmp_path: Path) -> None:
    repo = tmp_path / "estate"
    assert init(repo, "--exclusive-api-types", "8").exit_code == 0
    listing = [authorised(1000, 8, active=True), authorised(1001, 8), authorised(1002, 9)]
    run = run_project(repo, "prod", listing=listing)
    flags = {i.name: (i.active, i.deactivate_on_destroy) for i in run.integrations}
    assert flags == {
        "school-1000-api-8": (False, False),
        "school-1001-api-8": (False, False),
    }


def test_without_the_flag_there_is_no_exclusive_mode(tmp_path: Path) -> None:
    repo = tmp_path / "estate"
    assert init(repo).exit_code == 0
    assert "exclusive" not in (repo / "Pulumi.prod.yaml").read_text()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "8,x",
            "--exclusive-api-types '8,x': exclusiveApiTypes[1] must be a whole number greater "
            "than 0, got 'x'",
        ),
        ("8,8", "--exclusive-api-types '8,8': exclusiveApiTypes[1] repeats API type 8"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_written(
    tmp_path: Path, value: str, expected: str
) -> None:
    result = init(tmp_path / "r", "--exclusive-api-types", value)
    assert result.exit_code == cli.EXIT_USAGE
    assert expected in result.stderr
    assert not (tmp_path / "r").exists()


def test_every_key_written_is_printed_exclusive_ignore_too(tmp_path: Path) -> None:
    result = init(tmp_path / "estate", "--exclusive-api-types", "8")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    keys = lines[lines.index("Config keys written to Pulumi.prod.yaml:") + 1 :]
    assert keys[:4] == [
        "  d6:maxDeactivations: 10",
        "  estate:exclusiveApiTypes: API type(s) 8",
        "  estate:exclusiveIgnore: empty",
        "  estate:integrations: empty",
    ]


def test_exclusive_mode_without_adopt_warns_about_the_first_up(tmp_path: Path) -> None:
    result = init(tmp_path / "estate", "--exclusive-api-types", "8,9", "--max-deactivations", "3")
    assert result.exit_code == 0, result.stderr
    assert " ".join(result.stderr.split()) == (
        "warning: exclusive mode without --adopt: the first `pulumi up` deactivates every "
        "integration of API type(s) 8, 9 that is active in d6 now and not declared in "
        "estate:integrations (up to d6:maxDeactivations, 3, per run). To keep them, run init "
        "with --adopt, or declare them now with `pulumi-d6 codegen --write Pulumi.prod.yaml`; "
        "exceptions go in estate:exclusiveIgnore."
    )


def test_no_exclusive_warning_without_exclusive_mode(tmp_path: Path) -> None:
    result = init(tmp_path / "estate", "--activate-all-authorised", "8")
    assert result.exit_code == 0, result.stderr
    assert "exclusive" not in result.stderr
