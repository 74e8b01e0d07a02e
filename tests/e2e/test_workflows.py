"""Every GitHub workflow the project has or writes: a security linter, the schema, the rules.

Covered: ``.github/workflows/*.yml`` (the project's CI and release), the example, the template
and one written by ``pulumi-d6 init``. zizmor runs offline and fails on any finding of medium or
higher; check-jsonschema validates against the GitHub workflow schema it ships. Then the
hardening rules a reader of issue 17 would check by eye, and the generated workflow's own shell
steps, run with fakes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from pulumi_d6 import cli, pins
from pulumi_d6.emulator.pytest_plugin import RunningEmulator

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "pulumi_d6" / "templates" / "d6-integrations" / ".github" / "workflows"
GENERATED = [TEMPLATE / "d6-integrations.yml", ROOT / "examples/github-actions/d6-integrations.yml"]
PROJECT = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
FIXTURES = ROOT / "tests" / "unit" / "fixtures" / "pulumi-preview"
PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40} +# \S*v?\d+(?:\.\d+)*\b")
PASSWORD = "Workflow-Gate-Pw-3391"


def tool(name: str) -> str:
    """A [dev] tool beside this interpreter (the project's venv), else on PATH; never skipped:
    a gate that skips when its tool is missing is no gate."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[dev]'")
    return found


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workflow `pulumi-d6 init` writes into a new repository."""
    repo = tmp_path_factory.mktemp("init") / "my-d6"
    env = {"D6_USERNAME": "", "D6_BASE_URL": "", "COLUMNS": "200"}
    result = CliRunner().invoke(cli.app, ["init", str(repo), "--stack", "live"], env=env)
    assert result.exit_code == 0, result.stderr
    return repo / ".github" / "workflows" / "d6-integrations.yml"


def every_workflow(rendered: Path) -> list[Path]:
    return [*PROJECT, *GENERATED, rendered]


def zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", "--min-severity", "medium"]
        + [str(p) for p in paths],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_project_has_workflows_to_check() -> None:
    assert ROOT / ".github" / "workflows" / "ci.yml" in PROJECT


def test_zizmor_finds_nothing_of_medium_or_higher(rendered: Path) -> None:
    done = zizmor(*every_workflow(rendered))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout


def test_zizmor_as_run_here_does_catch_an_unhardened_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\npermissions: write-all\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4\n"
    )
    done = zizmor(bad)
    assert done.returncode != 0
    assert "artipacked" in done.stdout
    assert "unpinned-uses" in done.stdout


def test_every_workflow_validates_against_the_github_workflow_schema(rendered: Path) -> None:
    paths = [str(p) for p in every_workflow(rendered)]
    done = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *paths],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_refuses_a_broken_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    steps: []\n")  # no runs-on
    done = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(bad)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1


@pytest.mark.parametrize("path", [*PROJECT, *GENERATED], ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version(path: Path) -> None:
    uses = [line for line in path.read_text().splitlines() if re.match(r"^\s*(-\s+)?uses:", line)]
    assert uses
    assert [line for line in uses if not PINNED.match(line)] == []


@pytest.mark.parametrize("path", [ROOT / ".github/workflows/ci.yml", *GENERATED], ids=str)
def test_permissions_are_granted_per_job_and_checkout_keeps_no_token(path: Path) -> None:
    workflow = yaml.safe_load(path.read_text())
    assert workflow["permissions"] == {}
    for name, job in workflow["jobs"].items():
        assert "permissions" in job, name
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, name


def generated() -> dict[str, Any]:
    workflow: dict[str, Any] = yaml.safe_load(GENERATED[0].read_text())
    return workflow


def test_the_generated_workflow_gives_each_job_only_what_it_needs() -> None:
    jobs = generated()["jobs"]
    assert jobs["up"]["permissions"] == {"contents": "read"}
    assert jobs["preview"]["permissions"] == {"contents": "read"}


def test_the_generated_workflow_keeps_the_budget_in_the_stack_file_only() -> None:
    assert "D6_MAX_DEACTIVATIONS" not in GENERATED[0].read_text()
    assert "MAX_PLANNED_DELETES" not in GENERATED[0].read_text()


def runs(job: dict[str, Any]) -> list[str]:
    return [str(step.get("run", "")) for step in job["steps"]]


def index_of(job: dict[str, Any], text: str) -> int:
    return next(i for i, run in enumerate(runs(job)) if text in run)


def test_pull_requests_get_one_preview_gated_by_check_preview() -> None:
    preview = generated()["jobs"]["preview"]
    text = "\n".join(runs(preview))
    assert text.count("pulumi preview") == 1
    assert 'pulumi preview --stack "$STACK" --refresh --json' in text
    assert 'check-preview preview.json --stack-config "Pulumi.$STACK.yaml"' in text
    assert '>> "$GITHUB_STEP_SUMMARY"' in text
    action = [s for s in preview["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert len(action) == 1
    assert "with" not in action[0]  # no command: it only installs the CLI


@pytest.mark.parametrize("job", ["preview", "up"])
def test_the_program_is_tested_after_install_and_before_any_preview_or_up(job: str) -> None:
    steps = generated()["jobs"][job]
    tested = index_of(steps, "pytest tests/test_program.py")
    assert index_of(steps, "pip install -r requirements.txt") < tested
    assert tested < index_of(steps, "pulumi preview" if job == "preview" else "pulumi up")


def test_secrets_reach_only_the_steps_that_talk_to_d6_or_pulumi() -> None:
    workflow = generated()
    assert "secrets." not in str(workflow.get("env", {}))
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            if "pip install" in str(step.get("run", "")) or "pytest" in str(step.get("run", "")):
                assert "env" not in step


PULUMI_SECRETS = ("PULUMI_ACCESS_TOKEN", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE")
RUNS_PULUMI = re.compile(r"(?:^|[\s;&|(])pulumi\s")  # the Pulumi CLI, not pulumi-d6


@pytest.mark.parametrize("which", ["template", "init"])
def test_every_step_that_runs_pulumi_gets_each_backend_secret_and_no_other_step_does(
    rendered: Path, which: str
) -> None:
    """The header says setting PULUMI_BACKEND_URL and PULUMI_CONFIG_PASSPHRASE as secrets is
    enough for a self-managed backend: only true when they reach `pulumi`."""
    workflow = yaml.safe_load((GENERATED[0] if which == "template" else rendered).read_text())
    running = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            env = step.get("env", {})
            if RUNS_PULUMI.search(str(step.get("run", ""))):
                running.append(step["name"])
                assert {k: env.get(k) for k in PULUMI_SECRETS} == {
                    k: f"${{{{ secrets.{k} }}}}" for k in PULUMI_SECRETS
                }, step["name"]
            else:
                assert not set(env) & set(PULUMI_SECRETS), step.get("name")
    assert running == ["Preview (once, as JSON)", "pulumi up --refresh"]


def test_the_nightly_drift_step_fails_on_what_needs_action() -> None:
    up = generated()["jobs"]["up"]
    assert "pulumi-d6 drift" in runs(up)[-1]
    assert "--exit-code" in runs(up)[-1]


# ------------------------------------------------- the generated steps, run with fakes


def install_script() -> str:
    return runs(generated()["jobs"]["preview"])[index_of(generated()["jobs"]["preview"], "pip")]


def fake_python(tmp_path: Path) -> Path:
    """A `python` whose `-m venv venv` makes a venv/bin/pip that records its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "python"
    script.write_text(
        "#!/bin/sh\nmkdir -p venv/bin\n"
        "printf '#!/bin/sh\\necho \"$@\" > pip-ran\\n' > venv/bin/pip\nchmod +x venv/bin/pip\n"
    )
    script.chmod(0o755)
    return bin_dir


def run_step(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-e", "-c", script], cwd=cwd, env={**os.environ, **env},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_install_step_stops_at_a_local_only_requirement(tmp_path: Path) -> None:
    bin_dir = fake_python(tmp_path)
    (tmp_path / "requirements.txt").write_text(
        "# lines marked '# local only' cannot be installed in CI\n"
        "pulumi-d6 @ file:///home/me/pulumi-d6  # local only\npytest>=8\n"
    )
    path = f"{bin_dir}:{os.environ['PATH']}"
    done = run_step(install_script(), tmp_path, {"PATH": path})
    assert done.returncode == 1
    assert done.stdout.startswith(
        "2:pulumi-d6 @ file:///home/me/pulumi-d6  # local only\n"
        "::error file=requirements.txt::requirements.txt installs pulumi-d6 from a local source "
        "(the line marked '# local only'), which CI cannot reach."
    )
    assert pins.EDIT_ADVICE in done.stdout, "the fix is the edit: init keeps requirements.txt"
    assert not (tmp_path / "pip-ran").exists()


def test_the_install_step_installs_an_installable_requirements_file(tmp_path: Path) -> None:
    bin_dir = fake_python(tmp_path)
    (tmp_path / "requirements.txt").write_text(
        "# not '# local only': a comment may name the mark\n"
        "pulumi-d6 @ git+https://github.com/acme/pulumi-d6.git@0123456789abcdef\n"
    )
    done = run_step(install_script(), tmp_path, {"PATH": f"{bin_dir}:{os.environ['PATH']}"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "pip-ran").read_text() == "install -r requirements.txt\n"


@pytest.mark.parametrize(("budget", "code"), [("3", 0), ("2", 1)])
def test_the_gate_step_writes_the_summary_and_fails_over_the_budget(
    tmp_path: Path, d6_emulator_factory: Any, budget: str, code: int
) -> None:
    emu: RunningEmulator = d6_emulator_factory(seed=12, password=PASSWORD)
    for school in (1000, 1004, 1008):
        emu.admin.set_active(school, 8, True)
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "pulumi-d6").symlink_to(tool("pulumi-d6"))
    shutil.copy(FIXTURES / "plan.json", tmp_path / "preview.json")
    (tmp_path / "Pulumi.live.yaml").write_text(f'config:\n  d6:maxDeactivations: "{budget}"\n')
    summary = tmp_path / "summary.md"
    preview = generated()["jobs"]["preview"]
    gate = runs(preview)[index_of(preview, "check-preview")]
    env = {
        "STACK": "live",
        "GITHUB_STEP_SUMMARY": str(summary),
        "D6_USERNAME": "demo",
        "D6_PASSWORD": PASSWORD,
        "D6_BASE_URL": emu.base_url,
    }
    done = run_step(gate, tmp_path, env)
    assert done.returncode == code, done.stdout + done.stderr
    verdict = "within the limit" if code == 0 else "OVER THE LIMIT"
    line = f"3 planned deactivations (only those d6 shows active now), limit {budget}"
    assert f"{line} (d6:maxDeactivations in Pulumi.live.yaml): {verdict}" in summary.read_text()
    assert summary.read_text() == done.stdout
    assert PASSWORD not in done.stdout + done.stderr
