"""The README stays true: its config table matches the code, its curl examples work as shown."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pulumi_d6 import D6Client, cli
from pulumi_d6.emulator import EmulatorServer
from pulumi_d6.emulator.pytest_plugin import RunningEmulator
from pulumi_d6.settings import DEFAULT_BASE_URL, SETTING_KEYS, D6Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_readme_starts_with_the_two_commands() -> None:
    first_block = README.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()
    assert [line.split("#")[0].strip() for line in first_block] == ["make demo", "make test"]


def test_configuration_table_matches_the_settings() -> None:
    rows = re.findall(r"^\| `(d6:\w+)`(?: \(secret\))? \| `(D6_\w+)` \| ([^|]+) \|", README, re.M)
    assert [(key, env) for key, env, _ in rows] == [(k.stack_key, k.env_var) for k in SETTING_KEYS]
    defaults = {key: default.strip().strip("`") for key, _, default in rows}
    fields = D6Settings.model_fields
    assert defaults["d6:baseUrl"] == DEFAULT_BASE_URL == fields["base_url"].default
    assert defaults["d6:apiVersion"] == fields["api_version"].default
    assert float(defaults["d6:timeoutSeconds"]) == fields["timeout_seconds"].default
    assert int(defaults["d6:maxRetries"]) == fields["max_retries"].default
    assert defaults["d6:requestsPerSecond"] == "unset"
    assert fields["requests_per_second"].default is None
    assert defaults["d6:username"] == defaults["d6:password"] == "required"
    assert int(defaults["d6:maxDeactivations"]) == fields["max_deactivations"].default == 10


def curl_commands() -> list[str]:
    return [line for line in README.splitlines() if line.startswith("curl ")]


@pytest.fixture(scope="module")
def seeded() -> Iterator[EmulatorServer]:
    with EmulatorServer(seed=50) as server:
        yield server


def test_readme_curl_examples_work(seeded: EmulatorServer) -> None:
    commands = curl_commands()
    assert len(commands) == 5
    answers = []
    for command in commands:
        argv = shlex.split(command.replace("127.0.0.1:8787", f"127.0.0.1:{seeded.port}"))
        result = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True)
        answers.append(json.loads(result.stdout))
    listing, activated, v1, fault, log = answers
    assert len(listing["data"]) == 2
    assert listing["meta"]["max_allowed_limit"] == 50
    shown = json.loads(README.split("```json\n", 1)[1].split("```", 1)[0])
    assert activated == shown, "the README shows the emulator's exact answer"
    assert [row["activated_by_integrator"] for row in v1] == ["Yes", "No"]
    assert fault["kind"] == "status"
    assert fault["remaining"] == 2
    assert log["total"] == 3


def python_block_after(heading: str) -> str:
    section = README.split(heading, 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_d6client_snippet_runs_as_shown(
    d6_emulator: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    d6_emulator.admin.reset(seed=2)
    d6_emulator.admin.set_active(1001, 8, True)
    monkeypatch.setenv("D6_USERNAME", d6_emulator.username)
    monkeypatch.setenv("D6_PASSWORD", d6_emulator.password)
    monkeypatch.setenv("D6_BASE_URL", d6_emulator.base_url)
    exec(compile(python_block_after("## `D6Client`"), "README.md", "exec"), {})  # noqa: S102
    assert capsys.readouterr().out.splitlines() == [
        "1000 Greenfield Primary School inactive",
        "1001 Riverside Primary School active",
        "1000/8 activated now: True",
    ]


DRIFT_STACK = """\
config:
  d6:username: demo
  d6-integrations:integrations:
    - {schoolId: 1000, apiTypeId: 8}
    - {schoolId: 1001, apiTypeId: 8}
    - {schoolId: 9999, apiTypeId: 8}
"""


def test_the_drift_example_is_real(d6_emulator: RunningEmulator, tmp_path: Path) -> None:
    d6_emulator.admin.reset(seed=3)
    d6_emulator.admin.set_active(1000, 8, True)
    d6_emulator.admin.set_active(1001, 9, True)
    stack = tmp_path / "Pulumi.prod.yaml"
    stack.write_text(DRIFT_STACK)
    env = {"D6_PASSWORD": d6_emulator.password, "D6_BASE_URL": d6_emulator.base_url}
    result = CliRunner().invoke(
        cli.app, ["drift", "--stack-config", str(stack)], env={**env, "COLUMNS": "100"}
    )
    assert result.exit_code == 0, result.stderr
    block = README.split("<!-- drift-example -->\n```text\n", 1)[1].split("```", 1)[0]
    shown = block.split("\n", 1)[1]
    assert result.stdout == shown, result.stdout


def test_the_emulator_section_points_the_client_at_it(seeded: EmulatorServer) -> None:
    """A newcomer's first two commands: the export before the emulator starts, then `clients`."""
    block = README.split("## Emulator", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    export, start, said = block.splitlines()
    assert start == "pulumi-d6 emulator --seed 50"
    variables = dict(item.split("=", 1) for item in shlex.split(export)[1:])
    assert variables["D6_BASE_URL"] == said.rsplit(" ", 1)[1] == "http://127.0.0.1:8787/api"
    variables["D6_BASE_URL"] = seeded.base_url  # the test's emulator listens on a free port
    assert (variables["D6_USERNAME"], variables["D6_PASSWORD"]) == (
        seeded.config.username,
        seeded.config.password,
    )
    result = CliRunner().invoke(cli.app, ["clients", "--json"], env=variables)
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)) == 100  # 50 schools, API types 8 and 9


def test_the_d6client_keywords_are_those_of_from_env(seeded: EmulatorServer) -> None:
    section = README.split("## `D6Client`", 1)[1].split("\n## ", 1)[0]
    (call,) = re.findall(r"`(D6Client\.from_env\([^`]+\))`", section)
    call = call.replace("http://127.0.0.1:8787/api", seeded.base_url)
    with eval(call, {"D6Client": D6Client}) as d6:  # noqa: S307 - the README's own code
        assert len(list(d6.iter_integrations(school_id=1000))) == 2
    assert "`D6Client(base_url=...)` is a\n`TypeError`" in section
    with pytest.raises(TypeError):
        D6Client(base_url=seeded.base_url)  # type: ignore[call-arg]
