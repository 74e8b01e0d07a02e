"""`pulumi-d6 check-preview` as CI runs it: exit codes, formats, the stack file's budget."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pulumi_d6 import cli
from pulumi_d6.declarations import parse_program_config
from pulumi_d6.settings import SETTING_KEYS

FIXTURES = Path(__file__).parent / "fixtures" / "pulumi-preview"
PLAN = FIXTURES / "plan.json"
NOOP = FIXTURES / "noop.json"
runner = CliRunner()


def check(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    env = {"COLUMNS": "200", "D6_MAX_DEACTIVATIONS": ""}
    result = runner.invoke(cli.app, ["check-preview", *args], env=env, input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def stack_file(tmp_path: Path) -> Path:
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text('config:\n  d6:maxDeactivations: "7"\n  my-d6:integrations: []\n')
    return path


def test_within_the_stack_files_limit_exits_0(stack_file: Path) -> None:
    code, out, _ = check(str(PLAN), "--stack-config", str(stack_file))
    assert code == 0
    assert out.startswith(
        f"7 planned deactivations, limit 7 (d6:maxDeactivations in {stack_file}): within the "
        "limit\n"
    )
    assert "school-1000-api-8" in out


def test_above_the_limit_exits_1_and_says_how_to_raise_it(stack_file: Path) -> None:
    stack_file.write_text('config:\n  d6:maxDeactivations: "6"\n')
    code, out, _ = check(str(PLAN), "--stack-config", str(stack_file), "--format", "markdown")
    assert code == 1
    assert (
        "❌ 7 planned deactivations, limit 6 (d6:maxDeactivations in "
        f"{stack_file}): OVER THE LIMIT. If this is intended, raise d6:maxDeactivations to 7 or "
        "more in the stack file, in this pull request (pulumi config set --stack prod "
        "d6:maxDeactivations 7)"
    ) in out
    assert out.count("\n| school-") == 7


def test_the_flag_overrides_the_stack_file(stack_file: Path) -> None:
    code, out, _ = check(str(PLAN), "--stack-config", str(stack_file), "--max-deactivations", "2")
    assert code == 1
    assert "limit 2 (--max-deactivations)" in out
    assert "pass --max-deactivations 7 or more" in out


def test_json_from_stdin() -> None:
    code, out, _ = check(
        "-", "--max-deactivations", "unlimited", "--format", "json", stdin=PLAN.read_text()
    )
    assert code == 0
    report = json.loads(out)
    assert (report["count"], report["limit"], report["within_limit"]) == (7, None, True)
    assert report["deactivations"][0] == {
        "op": "delete",
        "urn": "urn:pulumi:prod::my-d6::pulumi-python:dynamic/d6:ClientIntegration::"
        "school-1000-api-8",
        "name": "school-1000-api-8",
        "school_id": 1000,
        "api_type_id": 8,
        "reason": "removes an active integration with deactivate_on_destroy",
    }


def test_a_no_op_preview_passes_a_zero_limit() -> None:
    code, out, _ = check(str(NOOP), "--max-deactivations", "0", "--format", "markdown")
    assert code == 0
    assert out == (
        "## d6 deactivations planned by this preview\n\n"
        "✅ 0 planned deactivations, limit 0 (--max-deactivations): within the limit\n"
    )


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            [str(PLAN)],
            None,
            "error: give the limit: --max-deactivations N (or unlimited), or --stack-config "
            "FILE to use the stack's d6:maxDeactivations\n",
        ),
        (
            ["-", "--max-deactivations", "1"],
            "{not json",
            "error: stdin is not JSON (line 1 column 2: Expecting property name enclosed in "
            "double quotes); give the output of `pulumi preview --json`\n",
        ),
        (
            ["missing.json", "--max-deactivations", "1"],
            None,
            "error: missing.json: no such file\n",
        ),
        (
            [str(PLAN), "--stack-config", "Pulumi.missing.yaml"],
            None,
            "error: Pulumi.missing.yaml: no such file\n",
        ),
        (
            [str(PLAN), "--max-deactivations", "ten"],
            None,
            "error: --max-deactivations must be a whole number >= 0, or unlimited, got 'ten'\n",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], stdin: str | None, message: str) -> None:
    code, out, err = check(*args, stdin=stdin)
    assert (code, out, err) == (2, "", message)


def test_a_bad_stack_file_exits_2(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.prod.yaml"
    stack.write_text('config:\n  d6:maxDeactivations: "-3"\n')
    code, _, err = check(str(PLAN), "--stack-config", str(stack))
    assert code == 2
    assert err == (
        f"error: d6:maxDeactivations in {stack} must be a whole number >= 0, or unlimited, "
        "got '-3'\n"
    )


def test_a_misspelt_budget_key_exits_2_naming_the_key_meant(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.prod.yaml"
    stack.write_text('config:\n  d6:maxDeactivation: "10"\n')
    code, out, err = check(str(PLAN), "--stack-config", str(stack))
    assert (code, out) == (2, "")
    assert err == (
        f"error: {stack}: unknown setting 'd6:maxDeactivation': did you mean d6:maxDeactivations?\n"
    )


def test_the_readme_example_is_real(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("<!-- check-preview-example -->\n```text\n", 1)[1].split("```", 1)[0]
    command, rest = block.split("\n$ pulumi-d6 ", 1)[1].split("\n", 1)
    shown, status = rest.split("$ echo $?\n")
    (tmp_path / "preview.json").write_text(PLAN.read_text())
    (tmp_path / "Pulumi.prod.yaml").write_text('config:\n  d6:maxDeactivations: "5"\n')
    monkeypatch.chdir(tmp_path)
    code, out, _ = check(*command.split()[1:])
    assert (out, code) == (shown, int(status))


def test_live_without_credentials_exits_2_before_any_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("D6_USERNAME", "D6_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    code, out, err = check(str(PLAN), "--max-deactivations", "9", "--live")
    assert (code, out) == (2, "")
    assert err.startswith("error: d6 username and password not set")


def test_without_a_stack_file_the_environment_alone_gives_no_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("D6_MAX_DEACTIVATIONS", "50")
    result = runner.invoke(cli.app, ["check-preview", str(PLAN)], env={"COLUMNS": "200"})
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("error: give the limit: --max-deactivations N")


def plain(text: str) -> str:
    """Prose as a reader sees it: no markdown backticks, no help-table borders, one space."""
    return " ".join(text.replace("`", "").replace("│", " ").split())


@pytest.mark.parametrize("where", ["README.md", "docs/CHECK_PREVIEW.md", "--help"])
def test_every_description_of_the_limit_says_what_the_code_does(where: str) -> None:
    """With --stack-config: the stack file, else D6_MAX_DEACTIVATIONS, else 10; without it the
    flag is required (the previous README promised a fallback the command never had)."""
    if where == "--help":
        text = runner.invoke(cli.app, ["check-preview", "--help"], env={"COLUMNS": "2000"}).stdout
    else:
        text = (Path(__file__).resolve().parents[2] / where).read_text()
    assert "with --stack-config" in plain(text)
    assert "the stack file's d6:maxDeactivations, else D6_MAX_DEACTIVATIONS, else 10" in plain(text)
    assert (
        "without --stack-config, --max-deactivations is required (D6_MAX_DEACTIVATIONS alone is "
        "not read"
    ) in plain(text).replace("Without", "without")


# What the check-preview docs name in backticks that is not a config key.
NOT_CONFIG = {"retainOnDelete", "changeSummary", "detailedDiff", "getPreviewMetadataStep"}


@pytest.mark.parametrize("where", ["README.md", "docs/CHECK_PREVIEW.md"])
def test_the_check_preview_docs_name_only_config_keys_the_program_accepts(where: str) -> None:
    text = (Path(__file__).resolve().parents[2] / where).read_text()
    if where == "README.md":
        text = text[text.index("### `pulumi-d6 check-preview`") : text.index("\n## Emulator")]
    named = set(re.findall(r"`(d6:\w+|[a-z]+[A-Z]\w*)`", text)) - NOT_CONFIG
    provider = {key.stack_key for key in SETTING_KEYS}
    program = {key for key in named if not key.startswith("d6:")}
    assert named - program <= provider, named - provider
    assert program == {"exclusiveApiTypes"}, program
    parse_program_config({key: [8] for key in program})  # refused keys would raise here
