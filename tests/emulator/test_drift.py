"""`pulumi-d6 drift` against the emulator: every category at once, both declared sources."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pulumi_d6 import cli
from pulumi_d6.emulator.pytest_plugin import RunningEmulator
from pulumi_d6.emulator.store import generated_school

runner = CliRunner()
PASSWORD = "Drift-Test-Pw-2208"
TYPE = "pulumi-python:dynamic/d6:ClientIntegration"
SECRET = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
STACK_FILE = """\
config:
  d6:username: demo
  d6:password:
    secure: v1:cannot-be-read-here
  estate:integrations:
    - {schoolId: 1000, apiTypeId: 8}
    - {schoolId: 1001, apiTypeId: 8, active: false}
    - {schoolId: 1003, apiTypeId: 8}
    - {schoolId: 1004, apiTypeId: 9}
    - {schoolId: 9999, apiTypeId: 8}
"""


def name(school: int) -> str:
    return generated_school(school).name


def row(school: int, api_type: int, known: bool = True) -> dict[str, Any]:
    return {
        "school_id": school,
        "api_type_id": api_type,
        "school_name": name(school) if known else None,
    }


EXPECTED = {
    "in_sync": 1,
    "onboarding": [row(1000, 9), row(1001, 9), row(1002, 8), row(1003, 9), row(1004, 8)],
    "unmanaged_active": [row(1002, 9)],
    "exclusive_deactivate": [],
    "revoked": [row(1004, 9), row(9999, 8, known=False)],
    "mismatched": [
        {**row(1001, 8), "declared_active": False, "live_active": True},
        {**row(1003, 8), "declared_active": True, "live_active": False},
    ],
}


@pytest.fixture
def emu(d6_emulator_factory: Any) -> RunningEmulator:
    """Schools 1000-1004 x API types 8 and 9, three active, one revoked."""
    running: RunningEmulator = d6_emulator_factory(seed=5, password=PASSWORD)
    for school, api_type in ((1000, 8), (1001, 8), (1002, 9)):
        running.admin.set_active(school, api_type, True)
    running.admin.revoke(1004, 9)
    return running


@pytest.fixture
def stack_file(tmp_path: Path) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: estate\nruntime: python\n")
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(STACK_FILE)
    return path


def invoke(emu: RunningEmulator, *args: str, stdin: str | None = None) -> Any:
    env = {"D6_USERNAME": "demo", "D6_PASSWORD": PASSWORD, "D6_BASE_URL": emu.base_url}
    result = runner.invoke(cli.app, ["drift", *args], env={**env, "COLUMNS": "200"}, input=stdin)
    assert PASSWORD not in result.stdout + result.stderr
    return result


def resource(school: int, api_type: int, active: bool, school_name: str) -> dict[str, Any]:
    urn = f"urn:pulumi:prod::estate::{TYPE}::school-{school}-api-{api_type}"
    return {
        "urn": urn,
        "custom": True,
        "id": f"{school}/{api_type}",
        "type": TYPE,
        "inputs": {
            "__provider": "gASV...",
            "school_id": school,
            "api_type_id": api_type,
            "active": active,
            "deactivate_on_destroy": True,
        },
        "outputs": {
            "school_id": school,
            "api_type_id": api_type,
            "active": not active,  # outputs hold the live state; drift reads the declaration
            "school_name": school_name,
            "admin_email_address": {**SECRET, "ciphertext": "v1:Zm9v"},
            "telephone_number": {**SECRET, "ciphertext": "v1:YmFy"},
        },
        "parent": "urn:pulumi:prod::estate::pulumi:pulumi:Stack::estate-prod",
        "provider": "urn:pulumi:prod::estate::pulumi:providers:pulumi-python::default::abc",
    }


def stack_export() -> dict[str, Any]:
    return {
        "version": 3,
        "deployment": {
            "manifest": {"time": "2026-11-29T10:00:00Z", "version": "v3.200.0"},
            "secrets_providers": {"type": "passphrase", "state": {"salt": "v1:x"}},
            "resources": [
                {
                    "urn": "urn:pulumi:prod::estate::pulumi:pulumi:Stack::estate-prod",
                    "custom": False,
                    "type": "pulumi:pulumi:Stack",
                    "outputs": {"managed": ["1000/8"]},
                },
                {
                    "urn": "urn:pulumi:prod::estate::pulumi:providers:pulumi-python::default",
                    "custom": True,
                    "id": "abc",
                    "type": "pulumi:providers:pulumi-python",
                },
                {"urn": "urn:pulumi:prod::estate::aws:s3/bucket:Bucket::b", "type": "aws:s3"},
                resource(1000, 8, True, name(1000)),
                resource(1001, 8, False, name(1001)),
                resource(1003, 8, True, name(1003)),
                resource(1004, 9, True, name(1004)),
                {
                    **resource(9999, 8, True, ""),
                    "outputs": {"school_name": {**SECRET, "ciphertext": "v1:c2VjcmV0"}},
                },
            ],
        },
    }


def test_stack_config_json_is_exact(emu: RunningEmulator, stack_file: Path) -> None:
    result = invoke(emu, "--stack-config", str(stack_file), "--format", "json")
    assert result.exit_code == 0, result.stderr
    # Neither d6 (it revoked) nor the stack file knows the name of 1004; the state would.
    assert json.loads(result.stdout) == {
        **EXPECTED,
        "revoked": [row(1004, 9, known=False), row(9999, 8, known=False)],
    }


def test_state_file_and_stdin_give_the_same_answer(emu: RunningEmulator, tmp_path: Path) -> None:
    export = tmp_path / "state.json"
    export.write_text(json.dumps(stack_export()))
    from_file = invoke(emu, "--state", str(export), "--format", "json")
    from_stdin = invoke(emu, "--state", "-", "--format", "json", stdin=export.read_text())
    assert from_file.exit_code == from_stdin.exit_code == 0, from_file.stderr
    assert json.loads(from_file.stdout) == json.loads(from_stdin.stdout) == EXPECTED


def test_a_name_only_the_declaration_knows_is_kept(emu: RunningEmulator, tmp_path: Path) -> None:
    export = stack_export()
    export["deployment"]["resources"][-1] = resource(9999, 8, True, "Closed Academy")
    result = invoke(emu, "--state", "-", "--format", "json", stdin=json.dumps(export))
    assert json.loads(result.stdout)["revoked"][-1]["school_name"] == "Closed Academy"


def test_shown_secrets_are_opened(emu: RunningEmulator) -> None:
    export = stack_export()
    inputs = export["deployment"]["resources"][4]["inputs"]  # 1001/8, declared inactive
    inputs["active"] = {**SECRET, "plaintext": "false"}
    result = invoke(emu, "--state", "-", "--format", "json", stdin=json.dumps(export))
    assert json.loads(result.stdout) == EXPECTED


def test_activate_all_authorised_is_resolved_against_the_listing(
    emu: RunningEmulator, stack_file: Path
) -> None:
    """A discovered school that d6 shows inactive is the queue the next up activates:
    onboarding, not mismatched; an explicit entry that disagrees with d6 stays mismatched."""
    stack_file.write_text(
        "config:\n  estate:activateAllAuthorised: [9]\n"
        "  estate:integrations:\n    - {schoolId: 1003, apiTypeId: 9}\n"
    )
    result = invoke(emu, "--stack-config", str(stack_file), "--format", "json", "--exit-code")
    report = json.loads(result.stdout)
    assert report["in_sync"] == 1  # 1002/9 is active
    assert report["mismatched"] == [{**row(1003, 9), "declared_active": True, "live_active": False}]
    discovered, undeclared = (
        [row(1000, 9), row(1001, 9)],
        [row(1002, 8), row(1003, 8), row(1004, 8)],
    )
    assert report["onboarding"] == sorted(
        discovered + undeclared, key=lambda r: (r["school_id"], r["api_type_id"])
    )
    assert report["revoked"] == []
    assert [(r["school_id"], r["api_type_id"]) for r in report["unmanaged_active"]] == [
        (1000, 8),
        (1001, 8),
    ]
    assert result.exit_code == cli.EXIT_DRIFT  # for 1003/9 and the unmanaged ones


def test_right_after_init_activate_all_authorised_the_nightly_check_is_green(
    emu: RunningEmulator, stack_file: Path
) -> None:
    """`init --adopt --activate-all-authorised 9`: the schools waiting for their first
    activation are reported as onboarding and fail nothing."""
    emu.admin.reset(seed=0)
    emu.admin.authorise(1000, 8, active=True)
    emu.admin.authorise(1000, 9, active=True)
    emu.admin.authorise(1001, 9)
    emu.admin.authorise(1002, 9)
    stack_file.write_text(
        "config:\n  estate:activateAllAuthorised: [9]\n"
        "  estate:integrations:\n    - {schoolId: 1000, apiTypeId: 8}\n"
    )
    args = ["--stack-config", str(stack_file), "--exit-code"]
    result = invoke(emu, *args)
    assert result.exit_code == 0, result.stdout
    assert result.stdout.splitlines()[0] == (
        "2 out of sync (2 onboarding, 0 unmanaged active, 0 revoked, 0 mismatched); 2 in sync."
    )
    assert invoke(emu, *args, "--fail-on", "onboarding").exit_code == cli.EXIT_DRIFT


def test_exit_codes(emu: RunningEmulator, stack_file: Path) -> None:
    drifted = invoke(emu, "--stack-config", str(stack_file), "--exit-code")
    assert drifted.exit_code == cli.EXIT_DRIFT == 1
    assert invoke(emu, "--stack-config", str(stack_file)).exit_code == 0
    emu.admin.reset(seed=0)
    emu.admin.authorise(1000, 8, active=True)
    stack_file.write_text("config:\n  estate:integrations:\n    - {schoolId: 1000, apiTypeId: 8}\n")
    in_sync = invoke(emu, "--stack-config", str(stack_file), "--exit-code")
    assert in_sync.exit_code == 0
    assert "d6 and the code agree: 1 declared integration(s) in sync." in in_sync.stdout


def test_onboarding_alone_is_reported_not_failed(emu: RunningEmulator, stack_file: Path) -> None:
    """Right after `init --adopt`: everything active is declared, schools wait to be onboarded."""
    emu.admin.reset(seed=0)
    emu.admin.authorise(1000, 8, active=True)
    emu.admin.authorise(1001, 8)
    stack_file.write_text("config:\n  estate:integrations:\n    - {schoolId: 1000, apiTypeId: 8}\n")
    args = ["--stack-config", str(stack_file), "--exit-code"]
    default = invoke(emu, *args)
    assert default.exit_code == 0, default.stdout
    assert "1 out of sync (1 onboarding, 0 unmanaged active" in default.stdout
    assert invoke(emu, *args, "--fail-on", "onboarding").exit_code == cli.EXIT_DRIFT
    assert invoke(emu, *args, "--fail-on", "all").exit_code == cli.EXIT_DRIFT
    assert invoke(emu, *args, "--fail-on", "revoked,mismatched").exit_code == 0


@pytest.mark.parametrize("category", ["unmanaged_active", "revoked", "mismatched"])
def test_each_category_that_needs_action_fails_by_default(
    emu: RunningEmulator, stack_file: Path, category: str
) -> None:
    emu.admin.reset(seed=0)
    emu.admin.authorise(1000, 8, active=category != "mismatched")
    declared = {
        "unmanaged_active": "[]",
        "revoked": "[{schoolId: 1000, apiTypeId: 8}, {schoolId: 2000, apiTypeId: 8}]",
        "mismatched": "[{schoolId: 1000, apiTypeId: 8}]",
    }[category]
    stack_file.write_text(f"config:\n  estate:integrations: {declared}\n")
    result = invoke(emu, "--stack-config", str(stack_file), "--exit-code", "--format", "json")
    assert len(json.loads(result.stdout)[category]) == 1
    assert result.exit_code == cli.EXIT_DRIFT
    other = next(c for c in ("revoked", "mismatched") if c != category)
    unasked = invoke(emu, "--stack-config", str(stack_file), "--exit-code", "--fail-on", other)
    assert unasked.exit_code == 0


@pytest.mark.parametrize("value", ["sometimes", "", "all,revoked", "in_sync"])
def test_a_bad_fail_on_is_a_usage_error(emu: RunningEmulator, stack_file: Path, value: str) -> None:
    result = invoke(emu, "--stack-config", str(stack_file), "--exit-code", "--fail-on", value)
    assert result.exit_code == cli.EXIT_USAGE
    assert " ".join(result.stderr.split()) == (
        f"error: --fail-on '{value}': expected categories, comma-separated, from onboarding, "
        "unmanaged_active, exclusive_deactivate, revoked, mismatched; or all"
    )


def test_table_names_every_category(emu: RunningEmulator, stack_file: Path) -> None:
    result = invoke(emu, "--stack-config", str(stack_file))
    assert result.stdout.splitlines()[0] == (
        "10 out of sync (5 onboarding, 1 unmanaged active, 2 revoked, 2 mismatched); 1 in sync."
    )
    for title in ("Onboarding", "Unmanaged", "Revoked", "Mismatched"):
        assert title in result.stdout
    assert "Fetching client integrations" not in result.stdout, "progress goes to stderr"


def test_markdown_for_the_job_summary(emu: RunningEmulator, stack_file: Path) -> None:
    result = invoke(emu, "--stack-config", str(stack_file), "--format", "markdown")
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "## d6 drift",
        "",
        "10 out of sync (5 onboarding, 1 unmanaged active, 2 revoked, 2 mismatched); 1 in sync.",
    ]
    assert "### Mismatched: declared active differs from d6 (2)" in lines
    assert f"| 1001 | {name(1001)} | 8 | inactive | active |" in lines
    assert "| 9999 | (unknown) | 8 |" in lines
    assert sum(line.startswith("### ") for line in lines) == 3  # and the onboarding <details>


def test_markdown_shows_only_non_empty_categories(emu: RunningEmulator, stack_file: Path) -> None:
    emu.admin.reset(seed=0)
    emu.admin.authorise(1000, 8)
    stack_file.write_text("config: {}\n")
    lines = invoke(emu, "--stack-config", str(stack_file), "--format", "markdown").stdout
    assert "### " not in lines
    assert lines.count("<details>") == 1


ONBOARDING = "Onboarding: authorised in d6, inactive; waiting to be declared, or found by "


def test_sections_come_in_order_of_need_the_onboarding_queue_last(
    emu: RunningEmulator, stack_file: Path
) -> None:
    """Thousands of onboarding rows must not push what needs action out of sight."""
    table = invoke(emu, "--stack-config", str(stack_file), "--format", "table").stdout
    markdown = invoke(emu, "--stack-config", str(stack_file), "--format", "markdown").stdout
    for text in (table, markdown):
        at = [text.index(title) for title in ("Unmanaged:", "Revoked:", "Mismatched:", ONBOARDING)]
        assert at == sorted(at), text


def test_markdown_folds_the_onboarding_queue(emu: RunningEmulator, stack_file: Path) -> None:
    markdown = invoke(emu, "--stack-config", str(stack_file), "--format", "markdown").stdout
    folded = markdown.split("\n\n<details>", 1)[1]
    assert folded.startswith(
        f"<summary>{ONBOARDING}activateAllAuthorised (those the next up activates) (5)"
        "</summary>\n\n| school |"
    )
    assert folded.endswith(f"| 1004 | {name(1004)} | 8 |\n\n</details>\n")
    assert f"### {ONBOARDING}" not in markdown
    assert "### Mismatched: declared active differs from d6 (2)" in markdown


@pytest.mark.parametrize(
    ("args", "content", "expected"),
    [
        (["--state", "missing.json"], None, "missing.json: no such file"),
        (["--state", "state.json"], "{not json", "not JSON (expected the output of"),
        (["--state", "state.json"], '{"version": 3}', "not a stack export"),
        (["--state", "state.json"], "[1, 2]", "not a stack export"),
        (["--stack-config", "missing.yaml"], None, "missing.yaml: no such file"),
        (["--stack-config", "bad.yaml"], "config: [1]\n", "config must be a mapping"),
        (
            ["--stack-config", "bad.yaml"],
            "config:\n  estate:integrations:\n    - {schoolId: 1e99, apiTypeId: 8}\n",
            "bad.yaml: estate:integrations[0].schoolId must be a whole number",
        ),
        (
            ["--stack-config", "bad.yaml"],
            "config:\n  estate:integrations: []\n  estate:activateAllAuthorized: [8]\n",
            "bad.yaml: estate:activateAllAuthorized is not a setting of the root program; known: "
            "estate:integrations, estate:activateAllAuthorised, estate:deactivateUndiscovered",
        ),
        (
            ["--stack-config", "bad.yaml"],
            "config:\n  estate:activateAllAuthorised: [8, 9, 8]\n",
            "bad.yaml: estate:activateAllAuthorised[2] repeats API type 8",
        ),
        (
            ["--stack-config", "bad.yaml"],
            "config:\n  estate:integrations:\n    - schoolId: 1\n     apiTypeId: 8\n",
            "bad.yaml: not valid YAML (line 4, column 6:",
        ),
        (
            ["--stack-config", "bad.yaml", "--state", "x.json"],
            None,
            "give only one of --stack-config FILE or --state FILE, not both",
        ),
        ([], None, "give one of --stack-config FILE or --state FILE"),
    ],
)
def test_bad_inputs_exit_2_with_one_line(
    emu: RunningEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    content: str | None,
    expected: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Pulumi.yaml").write_text("name: estate\nruntime: python\n")
    if content is not None:
        (tmp_path / args[1]).write_text(content)
    result = invoke(emu, *args)
    assert result.exit_code == cli.EXIT_USAGE, result.stdout
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_bad_resource_id_in_the_export_names_it(emu: RunningEmulator) -> None:
    export = stack_export()
    export["deployment"]["resources"][3]["id"] = "1" * 5000 + "/8"
    result = invoke(emu, "--state", "-", stdin=json.dumps(export))
    assert result.exit_code == cli.EXIT_USAGE
    assert "resources[3]: invalid ClientIntegration id" in result.stderr
    assert len(result.stderr) < 600


def test_d6_errors_keep_their_exit_codes(emu: RunningEmulator, stack_file: Path) -> None:
    env = {"D6_USERNAME": "demo", "D6_PASSWORD": "wrong", "D6_BASE_URL": emu.base_url}
    result = runner.invoke(cli.app, ["drift", "--stack-config", str(stack_file)], env=env)
    assert result.exit_code == cli.EXIT_CREDENTIALS


@pytest.mark.parametrize("total", [5000, 120])
def test_the_listing_costs_ceil_t_over_the_page_size(
    d6_emulator_factory: Any, tmp_path: Path, total: int
) -> None:
    big: RunningEmulator = d6_emulator_factory(seed=total // 2, password=PASSWORD)
    export = copy.deepcopy(stack_export())
    result = invoke(big, "--state", "-", "--format", "json", stdin=json.dumps(export))
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert len(report["onboarding"]) + report["in_sync"] + len(report["mismatched"]) > 0
    assert big.admin.count(method="GET") == math.ceil(total / 50)


def test_an_encrypted_password_without_its_variable_says_only_the_cli_can_read_it(
    emu: RunningEmulator, stack_file: Path
) -> None:
    """The stack file holds the password already: asking to set it there would send the user
    in a circle."""
    env = {"D6_USERNAME": "", "D6_PASSWORD": "", "D6_BASE_URL": emu.base_url, "COLUMNS": "200"}
    result = runner.invoke(cli.app, ["drift", "--stack-config", str(stack_file)], env=env)
    assert result.exit_code == 2
    assert result.stderr == (
        "error: d6 password: d6:password in the stack file is encrypted (secure:), which only "
        "the Pulumi CLI can decrypt; set D6_PASSWORD in the environment, or pass --password.\n"
    )
    assert emu.admin.count() == 0
