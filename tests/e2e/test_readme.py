"""The README stays true: its config table matches the code, its curl examples work as shown."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pulumi_d6.emulator import EmulatorServer
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
