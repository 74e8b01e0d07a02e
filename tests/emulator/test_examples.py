"""The examples are runnable programs (run under mocks); the workflow has the promised shape."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
import yaml

from pulumi_d6.emulator.pytest_plugin import RunningEmulator
from pulumi_d6.testing import run_program

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("name", ["basic", "auto_activate"])
def test_each_program_example_is_a_pulumi_project(name: str) -> None:
    project = yaml.safe_load((EXAMPLES / name / "Pulumi.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    assert (EXAMPLES / name / "__main__.py").is_file()
    requirements = (EXAMPLES / name / "requirements.txt").read_text()
    assert "-e ../.." in requirements


def test_basic_declares_two_schools() -> None:
    run = run_program(
        lambda: runpy.run_path(str(EXAMPLES / "basic" / "__main__.py")), project="d6-basic"
    )
    assert sorted((i.school_id, i.api_type_id, i.active) for i in run.integrations) == [
        (1000, 8, True),
        (1001, 8, True),
        (1001, 9, True),
    ]
    assert run.exports["activeIds"] == ["1000/8", "1001/8", "1001/9"]


def test_auto_activate_covers_every_authorised_school(
    monkeypatch: pytest.MonkeyPatch, d6_emulator: RunningEmulator
) -> None:
    d6_emulator.admin.reset(seed=7)
    d6_emulator.admin.revoke(1004, 8)
    monkeypatch.setenv("D6_PASSWORD", d6_emulator.password)
    config = {"d6:baseUrl": d6_emulator.base_url, "d6:username": d6_emulator.username}
    run = run_program(
        lambda: runpy.run_path(str(EXAMPLES / "auto_activate" / "__main__.py")),
        config,
        listing=None,
        project="d6-auto-activate",
    )
    expected = [s for s in range(1000, 1007) if s != 1004]
    assert sorted(i.school_id for i in run.integrations) == expected
    assert {i.api_type_id for i in run.integrations} == {8}
    assert run.exports == {"schools": expected, "count": 6}


def test_github_actions_workflow() -> None:
    workflow = yaml.safe_load((EXAMPLES / "github-actions" / "d6-integrations.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as a boolean
    assert set(triggers) == {"pull_request", "push", "schedule", "workflow_dispatch"}
    assert triggers["push"]["branches"] == ["main"]
    assert triggers["schedule"][0]["cron"]
    jobs = workflow["jobs"]
    for name, command in (("preview", "pulumi preview"), ("up", "pulumi up")):
        [step] = [s for s in jobs[name]["steps"] if str(s.get("run", "")).startswith(command)]
        assert step["env"]["D6_USERNAME"] == "${{ secrets.D6_USERNAME }}"
        assert step["env"]["D6_PASSWORD"] == "${{ secrets.D6_PASSWORD }}"
        [action] = [
            s for s in jobs[name]["steps"] if s.get("uses", "").startswith("pulumi/actions@")
        ]
        assert "with" not in action  # installs the CLI only
    assert jobs["preview"]["if"] == "github.event_name == 'pull_request'"
    assert jobs["up"]["if"] == "github.event_name != 'pull_request'"
