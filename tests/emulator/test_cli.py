"""The `pulumi-d6` CLI against the emulator: every command and every error path's exit code."""

from __future__ import annotations

import itertools
import json
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import pulumi_d6
from pulumi_d6 import cli
from pulumi_d6.client import D6Client
from pulumi_d6.declarations import ProgramConfigError, parse_integrations
from pulumi_d6.emulator.pytest_plugin import RunningEmulator
from pulumi_d6.errors import NotAuthorisedError
from pulumi_d6.integration import IntegrationSpec
from pulumi_d6.program import main as root_program
from pulumi_d6.provider import _not_authorised
from pulumi_d6.settings import D6Settings
from pulumi_d6.testing import run_program

runner = CliRunner()
PASSWORD = "Cli-Test-Pw-6604"


@pytest.fixture(autouse=True)
def _no_outer_d6_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("D6_USERNAME", "D6_PASSWORD", "D6_BASE_URL", "D6_API_VERSION", "D6_MAX_RETRIES"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def emu(d6_emulator_factory: Any) -> RunningEmulator:
    running: RunningEmulator = d6_emulator_factory(seed=3, password=PASSWORD)
    return running


def invoke(emu: RunningEmulator, *args: str, env: dict[str, str] | None = None) -> Any:
    full_env = {
        "D6_USERNAME": emu.username,
        "D6_PASSWORD": emu.password,
        "D6_BASE_URL": emu.base_url,
    }
    full_env.update(env or {})
    result = runner.invoke(cli.app, list(args), env=full_env)
    assert PASSWORD not in result.stdout
    assert PASSWORD not in result.stderr
    return result


def test_help_lists_every_command() -> None:
    result = runner.invoke(cli.app, ["--help"])
    assert result.exit_code == 0
    for command in ("clients", "codegen", "activate", "deactivate", "emulator"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("command", "sentence"),
    [
        (
            "drift",
            "One full listing of d6 (every page, at its largest page size). With "
            "--stack-config, the file's plain d6:* settings are used too (a secure d6:password "
            "is not: set D6_PASSWORD).",
        ),
        (
            "codegen",
            "`pulumi import` cannot work for dynamic providers; declaring what is already "
            "active and running `pulumi up` adopts it instead, with no change in d6.",
        ),
    ],
)
def test_help_paragraphs_are_not_broken_where_the_source_wraps(command: str, sentence: str) -> None:
    """On a wide terminal every paragraph of the help is one line."""
    result = runner.invoke(cli.app, [command, "--help"], env={"COLUMNS": "400"})
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert any(line.startswith(sentence) for line in lines), result.stdout


def test_help_names_the_environment_variables() -> None:
    result = runner.invoke(cli.app, ["clients", "--help"], env={"COLUMNS": "200"})
    for variable in ("D6_BASE_URL", "D6_USERNAME", "D6_PASSWORD", "D6_API_VERSION"):
        assert variable in result.stdout


COMMANDS = ["clients", "codegen", "activate", "deactivate", "init", "drift", "check-preview"]
PIPED = {"COLUMNS": None}  # as in a CI log: no terminal and nothing that says its width


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS), ["emulator"]], ids=str)
def test_help_in_a_pipe_cuts_nothing_and_flags_take_no_placeholder(command: list[str]) -> None:
    """CliRunner's output is not a terminal, as in a CI log or `| less`."""
    result = runner.invoke(cli.app, [*command, "--help"], env=PIPED)
    assert result.exit_code == 0
    assert "…" not in result.stdout, result.stdout
    assert "<bool>" not in result.stdout, result.stdout
    assert "--help" in result.stdout


def test_the_root_help_lists_version_as_a_flag() -> None:
    rows = [" ".join(line.strip("│ ").split()) for line in runner.invoke(
        cli.app, ["--help"], env=PIPED
    ).stdout.splitlines()]  # fmt: skip
    assert "--version Print the version and exit." in rows
    assert "--help Show this message and exit." in rows


def test_a_piped_help_shows_long_option_names_and_defaults_whole() -> None:
    emulator = runner.invoke(cli.app, ["emulator", "--help"], env=PIPED).stdout
    assert "--v2-state-methods " in emulator
    drift = runner.invoke(cli.app, ["drift", "--help"], env=PIPED).stdout
    assert "[default: unmanaged_active,revoked,mismatched]" in drift


def test_a_width_the_user_gives_is_kept() -> None:
    lines = runner.invoke(cli.app, ["drift", "--help"], env={"COLUMNS": "70"}).stdout.splitlines()
    assert max(len(line) for line in lines) == 70


def test_the_emulator_help_shows_its_default_password() -> None:
    result = runner.invoke(cli.app, ["emulator", "--help"], env=PIPED)
    lines = result.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if "--password" in line)
    block = [lines[start], *itertools.takewhile(lambda line: "--" not in line, lines[start + 1 :])]
    text = " ".join(" ".join(line.strip("│ ").split()) for line in block)
    assert "Integrator password it accepts. Prefer the variable" in text
    assert "[env var: D6_PASSWORD]" in text
    assert "[default: demo]" in text


def test_clients_table(emu: RunningEmulator) -> None:
    emu.admin.set_active(1001, 9, True)
    result = invoke(emu, "clients", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    assert "6 authorised client integration(s)" in result.stdout
    assert "Riverside Primary School" in result.stdout
    assert "Curriculum+ API" in result.stdout


def test_clients_json_and_filters(emu: RunningEmulator) -> None:
    everything = json.loads(invoke(emu, "clients", "--json").stdout)
    assert len(everything) == 6
    assert everything[0] == {
        "school_id": 1000,
        "api_type_id": 8,
        "active": False,
        "school_name": "Greenfield Primary School",
        "admin_email_address": "admin@greenfield-primary-school.d6-emulator.test",
        "telephone_calling_code": "27",
        "telephone_number": everything[0]["telephone_number"],
        "api_type": "Admin+ API",
    }
    assert len(json.loads(invoke(emu, "clients", "--json", "--api-type-id", "9").stdout)) == 3
    one = json.loads(invoke(emu, "clients", "--json", "--school-id", "1001").stdout)
    assert [(i["school_id"], i["api_type_id"]) for i in one] == [(1001, 8), (1001, 9)]


def test_clients_pages_to_the_end(d6_emulator_factory: Any) -> None:
    big: RunningEmulator = d6_emulator_factory(seed=60, password=PASSWORD)
    items = json.loads(invoke(big, "clients", "--json").stdout)
    assert len(items) == 120
    assert big.admin.count(method="GET") == 3, "ceil(120 / 50)"


def test_flags_override_the_environment(emu: RunningEmulator) -> None:
    result = invoke(emu, "clients", "--json", "--username", "nobody", env={})
    assert result.exit_code == cli.EXIT_CREDENTIALS


def test_v1_flag(emu: RunningEmulator) -> None:
    result = invoke(emu, "clients", "--json", "--api-version", "v1")
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)) == 6
    assert emu.admin.count(route="/api/v1/settings/clients") == 1


def test_activate_and_deactivate(emu: RunningEmulator) -> None:
    first = invoke(emu, "activate", "1000", "8")
    assert (first.exit_code, first.stdout.strip()) == (0, "1000/8: activated")
    again = invoke(emu, "activate", "1000", "8")
    assert again.stdout.strip() == "1000/8: already activated, nothing changed"
    assert emu.admin.is_active(1000, 8) is True
    off = invoke(emu, "deactivate", "1000", "8")
    assert off.stdout.strip() == "1000/8: deactivated"
    assert emu.admin.is_active(1000, 8) is False


def test_codegen_yaml_round_trips_into_the_root_program(
    emu: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu.admin.set_active(1002, 9, True)
    emu.admin.set_active(1000, 8, True)
    result = invoke(emu, "codegen", "--format", "yaml")
    assert result.exit_code == 0
    assert "config:" not in result.stdout, "only what goes under the existing config: block"
    config = yaml.safe_load("config:\n" + result.stdout)["config"]
    assert config["d6-integrations:integrations"] == [
        {"schoolId": 1000, "apiTypeId": 8},
        {"schoolId": 1002, "apiTypeId": 9},
    ]
    assert "# Greenfield Primary School" in result.stdout
    assert len(parse_integrations(config["d6-integrations:integrations"])) == 2
    run = run_program(root_program, config)
    assert sorted((i.school_id, i.api_type_id, i.active) for i in run.integrations) == [
        (1000, 8, True),
        (1002, 9, True),
    ]


def test_codegen_python_is_a_runnable_program(
    emu: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu.admin.set_active(1001, 8, True)
    result = invoke(emu, "codegen", "--format", "python")
    assert result.exit_code == 0
    source = result.stdout
    assert 'ClientIntegration("school-1001-api-8", school_id=1001, api_type_id=8)' in source
    program = compile(source, "generated.py", "exec")
    run = run_program(lambda: exec(program, {}))  # noqa: S102
    assert [a.name for a in run.integrations] == ["school-1001-api-8"]


def test_codegen_with_nothing_active(emu: RunningEmulator) -> None:
    config = yaml.safe_load("config:\n" + invoke(emu, "codegen").stdout)["config"]
    assert config == {"d6-integrations:integrations": []}


def test_codegen_pasted_under_an_existing_config_block_keeps_every_key(
    emu: RunningEmulator,
) -> None:
    """The README's instruction: paste the output under `config:` of the stack file."""
    emu.admin.set_active(1001, 8, True)
    stack = "config:\n  d6:username: me\n  d6-integrations:activateAllAuthorised: [9]\n"
    pasted = stack + invoke(emu, "codegen").stdout
    config = yaml.safe_load(pasted)["config"]
    assert config == {
        "d6:username": "me",
        "d6-integrations:activateAllAuthorised": [9],
        "d6-integrations:integrations": [{"schoolId": 1001, "apiTypeId": 8}],
    }


@pytest.mark.parametrize(
    ("declared", "refusal"),
    [
        (
            "  d6-integrations:integrations:\n"
            "    - {schoolId: 1000, apiTypeId: 8}\n"
            "    - {schoolId: 1000, apiTypeId: 8, active: false}\n",
            "d6-integrations:integrations[1] declares school 1000 / API type 8 again "
            "(first in d6-integrations:integrations[0])",
        ),
        (
            "  d6-integrations:activateAllAuthorized: [8]\n",
            "d6-integrations:activateAllAuthorized is not a setting of the root program",
        ),
        (
            "  d6-integrations:integrations: [{schoolId: 1, apiTypeId: 8, school: 2}]\n",
            "d6-integrations:integrations[0] has unknown key(s) school",
        ),
    ],
)
def test_the_program_codegen_write_and_drift_refuse_alike(
    emu: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    declared: str,
    refusal: str,
) -> None:
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text("config:\n" + declared)
    with pytest.raises(ProgramConfigError) as err:
        run_program(root_program, yaml.safe_load(stack.read_text())["config"])
    assert str(err.value).startswith(refusal)
    for command in (["codegen", "--write", str(stack)], ["drift", "--stack-config", str(stack)]):
        result = invoke(emu, *command)
        assert result.exit_code == cli.EXIT_USAGE, command
        assert " ".join(result.stderr.split()).startswith(f"error: {stack}: {refusal}"), command
    assert stack.read_text() == "config:\n" + declared


def test_codegen_write_adds_entries_above_the_trailing_comment(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    emu.admin.set_active(1002, 9, True)
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(
        "config:\n"
        "  d6-integrations:integrations:\n"
        "    - schoolId: 1000  # kept\n"
        "      apiTypeId: 8\n"
        "# Add schools above this line.\n"
    )
    assert invoke(emu, "codegen", "--write", str(stack)).exit_code == 0
    added = emu.admin.integration(1002, 9)
    assert added is not None
    lines = stack.read_text().splitlines()
    assert lines[-1] == "# Add schools above this line.", lines
    assert lines[2:6] == [
        "    - schoolId: 1000  # kept",
        "      apiTypeId: 8",
        f"    - schoolId: 1002  # {added.school_name}",
        "      apiTypeId: 9",
    ]


# A school names itself in d6+: rich markup, a terminal escape, a bidi override, NUL.
HOSTILE_NAME = "St [/] Mary's \x1b[31mRed\x1b[0m \u202eloohcs\x00 [link=https://x.test]x"
SHOWN_NAME = "St [/] Mary's ?[31mRed?[0m ?loohcs? [link=https://x.test]x"


def test_a_school_name_is_shown_as_plain_text_in_tables(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    emu.admin.authorise(1000, 8, school_name=HOSTILE_NAME)
    emu.admin.set_active(1000, 8, True)
    (tmp_path / "Pulumi.yaml").write_text("name: d6-integrations\nruntime: python\n")
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text("config:\n  d6-integrations:integrations: []\n")
    wide = {"COLUMNS": "300"}
    for command in (["clients"], ["drift", "--stack-config", str(stack)]):
        result = invoke(emu, *command, env=wide)
        assert result.exit_code == 0, (command, result.stderr)
        assert SHOWN_NAME in result.stdout, command
        assert "\x1b" not in result.stdout, command
        assert "\x00" not in result.stdout, command


def test_codegen_output_stays_valid_whatever_a_school_is_called(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    emu.admin.authorise(1000, 8, school_name=HOSTILE_NAME)
    emu.admin.set_active(1000, 8, True)
    pasted = yaml.safe_load("config:\n" + invoke(emu, "codegen").stdout)["config"]
    assert pasted["d6-integrations:integrations"] == [{"schoolId": 1000, "apiTypeId": 8}]
    source = invoke(emu, "codegen", "--format", "python").stdout
    compile(source, "generated.py", "exec")
    assert f"api_type_id=8)  # {SHOWN_NAME}" in source
    (tmp_path / "Pulumi.yaml").write_text("name: d6-integrations\nruntime: python\n")
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(f"config:\n  d6:username: {emu.username}\n")
    assert invoke(emu, "codegen", "--write", str(stack)).exit_code == 0
    assert f"- schoolId: 1000  # {SHOWN_NAME}" in stack.read_text()
    drift = invoke(emu, "drift", "--stack-config", str(stack), "--exit-code")
    assert drift.exit_code == 0, drift.stderr


# ------------------------------------------------------------------ errors


def test_bad_credentials_exit_3(emu: RunningEmulator) -> None:
    result = invoke(emu, "clients", env={"D6_PASSWORD": "not-it"})
    assert result.exit_code == cli.EXIT_CREDENTIALS == 3
    assert "d6 rejected the integrator credentials" in result.stderr
    assert "password from D6_PASSWORD" in result.stderr
    assert "not-it" not in result.stderr


@pytest.mark.parametrize("command", ["activate", "deactivate"])
def test_not_authorised_exit_4_names_the_school_the_api_type_and_the_fix(
    emu: RunningEmulator, command: str
) -> None:
    result = invoke(emu, command, "99999", "8")
    assert result.exit_code == cli.EXIT_NOT_AUTHORISED == 4
    assert " ".join(result.stderr.split()) == (
        "error: School 99999 has not authorised your integration for API type 8 in d6+ SAMS "
        "(d6: Client has not authorised access). Ask the school to authorise it in d6+, then "
        f"run `pulumi-d6 {command} 99999 8` again. Your credentials are fine."
    )


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_readme_quotes_what_each_surface_prints_for_a_school_that_has_not_authorised(
    emu: RunningEmulator,
) -> None:
    """The troubleshooting entry once quoted a message no surface printed."""
    readme = flat((Path(__file__).resolve().parents[2] / "README.md").read_text())
    emu.admin.revoke(1000, 8)
    printed = flat(invoke(emu, "activate", "1000", "8").stderr)
    assert f'"{printed}"' in readme
    assert f'"{_not_authorised(IntegrationSpec(1000, 8))}"' in readme
    client = D6Client(D6Settings(base_url=emu.base_url, username="demo", password=PASSWORD))
    with pytest.raises(NotAuthorisedError) as raised:
        client.set_state(1000, 8, True)
    assert str(raised.value) == f"PATCH {emu.base_url}/v2/settings/clientintegrations " + (
        "failed (HTTP 401): Client has not authorised access"
    )
    assert f'"{str(raised.value).replace(emu.base_url, "<base URL>")}"' in readme


def test_validation_failure_exit_5(emu: RunningEmulator) -> None:
    result = invoke(emu, "activate", "1000", "77")
    assert result.exit_code == cli.EXIT_VALIDATION == 5
    assert "api_type_id: The api_type_id is invalid" in result.stderr


def test_unreachable_host_exit_6_with_one_plain_line(emu: RunningEmulator) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: a connection is refused
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/api"
        result = invoke(emu, "clients", env={"D6_BASE_URL": url, "D6_MAX_RETRIES": "0"})
    assert result.exit_code == cli.EXIT_UNREACHABLE == 6
    assert result.stderr.count("\n") == 1, result.stderr
    assert " ".join(result.stderr.split()) == (
        f"error: GET {url}/v2/settings/clientintegrations failed: could not reach d6 at {url} "
        "after 1 attempt(s): Connection refused; check that d6 (or the emulator) is up there, "
        "or the base URL (from D6_BASE_URL; set with d6:baseUrl or D6_BASE_URL)"
    )


def test_other_api_errors_exit_7(emu: RunningEmulator) -> None:
    emu.admin.inject("status", status=500)
    result = invoke(emu, "clients", env={"D6_MAX_RETRIES": "0"})
    assert result.exit_code == cli.EXIT_API == 7
    assert "HTTP 500" in result.stderr


@pytest.mark.parametrize(
    ("env", "text"),
    [
        (
            {"D6_USERNAME": "", "D6_PASSWORD": ""},
            "d6 username and password not set. Set them in stack config",
        ),
        ({"D6_PASSWORD": ""}, "d6 password not set. Set it in stack config"),
        ({"D6_BASE_URL": "http://d6.example.com/api"}, "only allowed for a loopback host"),
        ({"D6_API_VERSION": "v7"}, "D6_API_VERSION = 'v7'"),
    ],
)
def test_settings_errors_exit_2(emu: RunningEmulator, env: dict[str, str], text: str) -> None:
    result = invoke(emu, "clients", env=env)
    assert result.exit_code == cli.EXIT_USAGE == 2
    assert text in result.stderr


def test_only_the_missing_password_is_asked_for(emu: RunningEmulator) -> None:
    result = invoke(emu, "clients", env={"D6_PASSWORD": ""})
    assert result.exit_code == cli.EXIT_USAGE
    assert " ".join(result.stderr.split()) == (
        "error: d6 password not set. Set it in stack config (`pulumi config set --secret "
        "d6:password` (it prompts for the password)) or in the environment (D6_PASSWORD), or "
        "pass --password."
    )


def test_bad_arguments_are_usage_errors() -> None:
    result = runner.invoke(cli.app, ["activate", "0", "8"])
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["activate", "abc", "8"], "must be a whole number greater than 0, got 'abc'"),
        (["activate", "9007199254740993", "8"], "below 2**53"),
        (["deactivate", "1" * 5000, "8"], "below 2**53"),
        (["clients", "--school-id", "0"], "must be a whole number greater than 0"),
    ],
)
def test_bad_ids_are_usage_errors_with_a_short_message(
    emu: RunningEmulator, args: list[str], expected: str
) -> None:
    result = invoke(emu, *args, env={"COLUMNS": "400"})
    assert result.exit_code == 2
    assert expected in result.stderr
    assert len(result.stderr) < 1500
    assert emu.admin.count() == 0


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--password", " Lead-Space-Pw"], {}, "--password starts with white space"),
        ([], {"D6_PASSWORD": "Pasted-Pw\n"}, "D6_PASSWORD ends with a newline: was it pasted"),
        (["--username", "Euro€"], {}, "--username contains a character outside Latin-1"),
        (
            ["--base-url", "http://me:Url-Pw-77@127.0.0.1:1/api"],
            {},
            "--base-url must not contain a username or password (got 'http://***@127.0.0.1:1/api')",
        ),
    ],
)
def test_credential_errors_name_the_flag_and_never_show_the_value(
    emu: RunningEmulator, args: list[str], env: dict[str, str], expected: str
) -> None:
    result = invoke(emu, "clients", *args, env={"COLUMNS": "400", **env})
    assert result.exit_code == 2
    assert expected in result.stderr
    for secret in ("Lead-Space-Pw", "Pasted-Pw", "Euro", "Url-Pw-77"):
        assert secret not in result.stderr
    assert emu.admin.count() == 0


def test_version_prints_the_package_version() -> None:
    result = runner.invoke(cli.app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"pulumi-d6 {pulumi_d6.__version__}\n"


def test_emulator_seed_help_says_a_restart_only_adds_what_is_missing() -> None:
    result = runner.invoke(cli.app, ["emulator", "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "on a database that already holds state, only what is missing is added" in text
    assert "added to what the database already holds" not in text
