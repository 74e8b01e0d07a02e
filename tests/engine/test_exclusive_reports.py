"""What a pull request and the nightly report show of exclusive mode, against the emulator:
`check-preview` counts the deactivations its first run plans (with --live only those active now),
and `drift` reports the integrations the next `up` will deactivate in their own category."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from pulumi_d6 import cli
from pulumi_d6.declarations import from_stack_config, plan
from pulumi_d6.emulator.pytest_plugin import RunningEmulator
from pulumi_d6.integration import RESOURCE_TYPE, IntegrationSpec

from .test_exclusive import IDLE_8, IGNORED, STRAY_8, STRAY_9, estate, lookup_of

PASSWORD = "Exclusive-Report-Pw-3316"
PROVIDER = (  # a pickled ClientIntegrationProvider, as in the fixture
    "gASVOgAAAAAAAACMEnB1bHVtaV9kNi5wcm92aWRlcpSMGUNsaWVudEludGVncmF0aW9uUHJvdmlkZXKUk5QpgZR9lGIu"
)
STACK_FILE = """\
config:
  d6:maxDeactivations: "10"
  estate:integrations:
    - {schoolId: 2000, apiTypeId: 8}
  estate:exclusiveApiTypes: [8]
  estate:exclusiveIgnore: ["1100/8", "1101/8"]
"""
runner = CliRunner()


@pytest.fixture
def emu(d6_emulator_factory: Callable[..., RunningEmulator]) -> RunningEmulator:
    return estate(d6_emulator_factory(seed=0, password=PASSWORD))


@pytest.fixture
def stack_file(tmp_path: Path) -> Path:
    """The root program's stack file, in a project named estate."""
    (tmp_path / "Pulumi.yaml").write_text("name: estate\nruntime: python\n")
    (tmp_path / "Pulumi.prod.yaml").write_text(STACK_FILE)
    return tmp_path / "Pulumi.prod.yaml"


def invoke(emu: RunningEmulator, *args: str, stdin: str | None = None) -> Any:
    env = {"D6_USERNAME": "demo", "D6_PASSWORD": PASSWORD, "D6_BASE_URL": emu.base_url}
    result = runner.invoke(cli.app, list(args), env={**env, "COLUMNS": "200"}, input=stdin)
    assert PASSWORD not in result.stdout + result.stderr
    return result


def preview_json(entries: list[IntegrationSpec]) -> str:
    """What `pulumi preview --json` prints for the program's first run: one create per entry,
    shaped like Pulumi 3.260's PreviewDigest (as tests/unit/fixtures/pulumi-preview)."""
    steps = []
    for entry in entries:
        urn = f"urn:pulumi:prod::estate::{RESOURCE_TYPE}::{entry.resource_name}"
        inputs = {"__provider": PROVIDER, **entry.inputs()}
        new_state = {"urn": urn, "custom": True, "type": RESOURCE_TYPE, "inputs": inputs}
        steps.append({"op": "create", "urn": urn, "newState": new_state, "detailedDiff": None})
    return json.dumps({"steps": steps, "diagnostics": [], "changeSummary": {"create": len(steps)}})


def first_run_preview(emu: RunningEmulator, stack_file: Path) -> Path:
    config = yaml.safe_load(stack_file.read_text())["config"]
    entries = plan(from_stack_config(config, "estate"), lookup_of(emu))
    path = stack_file.parent / "preview.json"
    path.write_text(preview_json(entries))
    return path


def test_check_preview_counts_what_turning_exclusive_mode_on_would_switch_off(
    emu: RunningEmulator, stack_file: Path
) -> None:
    preview = first_run_preview(emu, stack_file)
    emu.admin.clear_requests()
    gate = invoke(emu, "check-preview", str(preview), "--stack-config", str(stack_file))
    assert gate.exit_code == 1
    assert gate.stdout.splitlines()[0].startswith(
        "19 planned deactivations, limit 10 (d6:maxDeactivations in "
    ), "every inactive create may deactivate: 14 strays and 5 idle"
    live = invoke(
        emu, "check-preview", str(preview), "--stack-config", str(stack_file), "--live",
        "--format", "json",
    )  # fmt: skip
    assert live.exit_code == 1
    report = json.loads(live.stdout)
    assert report["count"] == 14, "only those d6 shows active now"
    assert sorted((d["school_id"], d["api_type_id"]) for d in report["deactivations"]) == STRAY_8
    assert {d["reason"] for d in report["deactivations"]} == {
        "created with active: false (deactivates it if d6 has it active)"
    }
    assert emu.admin.count(method="PATCH") == 0, "the gate only reads"


def test_drift_reports_what_the_next_up_will_deactivate(
    emu: RunningEmulator, stack_file: Path
) -> None:
    result = invoke(emu, "drift", "--stack-config", str(stack_file), "--format", "json")
    report = json.loads(result.stdout)
    keys = {
        name: [(r["school_id"], r["api_type_id"]) for r in rows]
        for name, rows in report.items()
        if name != "in_sync"
    }
    assert keys == {
        "onboarding": IDLE_8,
        "unmanaged_active": sorted(STRAY_9 + IGNORED),
        "exclusive_deactivate": STRAY_8,
        "revoked": [],
        "mismatched": [],
    }
    assert report["in_sync"] == 1

    table = invoke(emu, "drift", "--stack-config", str(stack_file))
    assert table.stdout.splitlines()[0] == (
        "24 out of sync (5 onboarding, 5 unmanaged active, 14 to be deactivated by the next up "
        "(exclusive), 0 revoked, 0 mismatched); 1 in sync."
    )
    assert "Exclusive: active in d6, not declared, will be deactivated by the next up (14)" in (
        table.stdout
    )
    markdown = invoke(emu, "drift", "--stack-config", str(stack_file), "--format", "markdown")
    assert (
        "### Exclusive: active in d6, not declared, will be deactivated by the next up (14)"
        in markdown.stdout.splitlines()
    )


def test_drift_does_not_fail_on_exclusive_deactivations_unless_asked(
    emu: RunningEmulator, stack_file: Path
) -> None:
    for key in IGNORED + STRAY_9:
        emu.admin.revoke(*key)
    args = ["drift", "--stack-config", str(stack_file), "--exit-code"]
    assert invoke(emu, *args).exit_code == 0, "the next up handles them"
    asked = invoke(emu, *args, "--fail-on", "exclusive_deactivate")
    assert asked.exit_code == cli.EXIT_DRIFT
    assert invoke(emu, *args, "--fail-on", "all").exit_code == cli.EXIT_DRIFT


def test_drift_from_a_stack_export_does_not_know_exclusive_mode(emu: RunningEmulator) -> None:
    export: dict[str, Any] = {"deployment": {"resources": []}}
    result = invoke(emu, "drift", "--state", "-", "--format", "json", stdin=json.dumps(export))
    report = json.loads(result.stdout)
    assert report["exclusive_deactivate"] == []
    assert len(report["unmanaged_active"]) == len(STRAY_8 + IGNORED + STRAY_9) + 1
