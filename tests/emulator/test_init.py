"""`pulumi-d6 init` and `codegen --write` as a user runs them, against the emulator."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from pulumi_d6 import cli, scaffold
from pulumi_d6.emulator.pytest_plugin import RunningEmulator

from ..mocking import run_program

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Init-Test-Pw-4417"
WORKFLOW = ".github/workflows/d6-integrations.yml"
runner = CliRunner()


@pytest.fixture
def emu(d6_emulator_factory: Any) -> RunningEmulator:
    running: RunningEmulator = d6_emulator_factory(seed=4, password=PASSWORD)
    for school, api_type in ((1000, 8), (1001, 9), (1003, 8)):
        running.admin.set_active(school, api_type, True)
    return running


def invoke(emu: RunningEmulator, *args: str, **env: str) -> Any:
    base = {"D6_USERNAME": "demo", "D6_PASSWORD": PASSWORD, "D6_BASE_URL": emu.base_url}
    result = runner.invoke(cli.app, list(args), env={**base, **env})
    assert PASSWORD not in result.stdout + result.stderr
    return result


def every_file(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def stack_config_of(path: Path) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(path.read_text())["config"]
    return config


def test_init_adopt_writes_a_ready_repository(
    emu: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "my-d6"
    result = invoke(emu, "init", str(repo), "--adopt", "--activate-all-authorised", "9")
    assert result.exit_code == 0, result.stderr
    files = every_file(repo)
    assert sorted(files) == sorted([*scaffold.TEMPLATE_FILES, "Pulumi.prod.yaml"])
    assert "pulumi config set --secret d6:password" in result.stdout.splitlines()[-2]
    assert result.stdout.rstrip().endswith("pulumi preview   # then: pulumi up")

    project = yaml.safe_load(files["Pulumi.yaml"])
    assert project == {
        "name": "my-d6",
        "description": scaffold.DESCRIPTION,
        "runtime": {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}},
    }
    config = stack_config_of(repo / "Pulumi.prod.yaml")
    assert config == {
        "d6:username": "demo",
        "d6:baseUrl": emu.base_url,
        "d6:maxDeactivations": "10",
        "my-d6:activateAllAuthorised": [9],
        "my-d6:integrations": [
            {"schoolId": 1000, "apiTypeId": 8},
            {"schoolId": 1001, "apiTypeId": 9},
            {"schoolId": 1003, "apiTypeId": 8},
        ],
    }
    assert "# Greenfield Primary School" in files["Pulumi.prod.yaml"]
    for text in files.values():
        assert PASSWORD not in text
        assert "d6:password:" not in text

    venv = project["runtime"]["options"]["virtualenv"]
    workflow = yaml.safe_load(files[WORKFLOW])
    runs = [s.get("run", "") for job in workflow["jobs"].values() for s in job["steps"]]
    install = f"python -m venv {venv} && {venv}/bin/pip install -r requirements.txt"
    assert any(install in run for run in runs)
    stack = workflow["env"]["STACK"]
    assert stack == "prod"
    for path in re.findall(r"(?:-r |\")([\w.$/-]+\.(?:txt|yaml))", "\n".join(runs)):
        assert (repo / path.replace("$STACK", stack)).exists(), path
    assert set(workflow["env"]) == {"STACK"}  # no budget, no secret at workflow level
    assert "venv/" in files[".gitignore"].splitlines()

    # The generated program, with the generated stack config: the adopted integrations plus
    # every school authorised for API type 9.
    monkeypatch.chdir(repo)
    program = compile(files["__main__.py"], str(repo / "__main__.py"), "exec")
    stack_config = {**config, "d6:password": PASSWORD}
    run = lambda: exec(program, {})  # noqa: E731, S102 - the generated program, as Pulumi runs it
    mocks, exports = run_program(monkeypatch, run, stack_config, "my-d6")
    assert sorted(mocks.keys) == [
        (1000, 8, True),
        (1000, 9, True),
        (1001, 9, True),
        (1002, 9, True),
        (1003, 8, True),
        (1003, 9, True),
    ]
    assert exports["activeCount"] == 6


def test_init_without_adopt_needs_no_credentials(tmp_path: Path) -> None:
    result = runner.invoke(cli.app, ["init", str(tmp_path / "x"), "--project", "estate"], env={})
    assert result.exit_code == 0, result.stderr
    config = stack_config_of(tmp_path / "x" / "Pulumi.prod.yaml")
    assert config == {"d6:maxDeactivations": "10", "estate:integrations": []}
    assert "# d6:username: set it with" in (tmp_path / "x" / "Pulumi.prod.yaml").read_text()


def test_init_never_overwrites_without_force(emu: RunningEmulator, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "README.md").write_text("mine\n")
    (repo / "LICENSE").write_text("kept\n")
    before = every_file(repo)
    result = invoke(emu, "init", str(repo), "--adopt")
    assert result.exit_code == cli.EXIT_USAGE
    assert "already has README.md; nothing was written. Pass --force" in result.stderr
    assert every_file(repo) == before
    forced = invoke(emu, "init", str(repo), "--force")
    assert forced.exit_code == 0
    assert (repo / "README.md").read_text().startswith("# repo")
    assert (repo / "LICENSE").read_text() == "kept\n"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--project", "bad name!"], "is not a valid Pulumi project name"),
        (["--stack", "a/b"], "is not a valid Pulumi stack name"),
        (["--activate-all-authorised", "8,x"], "--activate-all-authorised must be a whole number"),
        (["--max-deactivations", "-1"], "--max-deactivations must be a whole number >= 0"),
        (["--base-url", "http://me:Url-Pw-5@d6.example/api"], "https://***@d6.example/api"),
    ],
)
def test_init_refuses_bad_options_cleanly(
    emu: RunningEmulator, tmp_path: Path, args: list[str], expected: str
) -> None:
    result = invoke(emu, "init", str(tmp_path / "r"), *args, COLUMNS="300")
    assert result.exit_code == cli.EXIT_USAGE
    assert expected in result.stderr.replace("http://***", "https://***")
    assert "Url-Pw-5" not in result.stderr
    assert not (tmp_path / "r").exists()


def test_init_adopt_with_bad_credentials_writes_nothing(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    result = invoke(emu, "init", str(tmp_path / "r"), "--adopt", D6_PASSWORD="wrong-one")
    assert result.exit_code == cli.EXIT_CREDENTIALS
    assert not (tmp_path / "r").exists()


def test_the_example_workflow_is_what_init_writes() -> None:
    written = scaffold.render(scaffold.RepoSpec(project="d6-integrations"))
    example = (ROOT / "examples" / "github-actions" / "d6-integrations.yml").read_text()
    assert example == written[WORKFLOW]


def test_the_template_folder_is_a_pulumi_new_template() -> None:
    folder = ROOT / "pulumi_d6" / "templates" / "d6-integrations"
    project = yaml.safe_load((folder / "Pulumi.yaml").read_text())
    assert project["name"] == "${PROJECT}"
    assert "d6:username" in project["template"]["config"]
    assert "d6:password" not in project["template"]["config"], "init and templates never hold it"
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == sorted(
        scaffold.TEMPLATE_FILES
    )


# ----------------------------------------------------------- requirements


class FakeDistribution:
    def __init__(self, direct_url: str | None) -> None:
        self.version = "0.1.0"
        self.direct_url = direct_url

    def read_text(self, name: str) -> str | None:
        return self.direct_url if name == "direct_url.json" else None


@pytest.mark.parametrize(
    ("direct_url", "line", "commented"),
    [
        (None, "pulumi-d6==0.1.0", False),
        (
            '{"url": "https://github.com/acme/pulumi-d6.git", '
            '"vcs_info": {"vcs": "git", "commit_id": "0123abc", "requested_revision": "main"}}',
            "pulumi-d6 @ git+https://github.com/acme/pulumi-d6.git@0123abc",
            False,
        ),
        (
            '{"url": "https://tok:Secret-77@git.acme/pulumi-d6.git", "vcs_info": {"vcs": "git", '
            '"commit_id": "9f"}, "subdirectory": "py"}',
            "pulumi-d6 @ git+https://git.acme/pulumi-d6.git@9f#subdirectory=py",
            False,
        ),
        (
            '{"url": "https://files.acme/pulumi_d6-0.1.0-py3-none-any.whl", '
            '"archive_info": {"hashes": {}}}',
            "pulumi-d6 @ https://files.acme/pulumi_d6-0.1.0-py3-none-any.whl",
            False,
        ),
        (
            '{"url": "file:///home/me/pulumi_d6-0.1.0.whl", "archive_info": {}}',
            "pulumi-d6==0.1.0",
            True,
        ),
        (
            '{"url": "file:///home/me/pulumi-d6", "dir_info": {"editable": true}}',
            "pulumi-d6==0.1.0",
            True,
        ),
    ],
)
def test_requirements_pin_the_install_source(
    monkeypatch: pytest.MonkeyPatch, direct_url: str | None, line: str, commented: bool
) -> None:
    monkeypatch.setattr("importlib.metadata.distribution", lambda _: FakeDistribution(direct_url))
    text = scaffold.requirements_txt()
    assert text.splitlines()[-1] == line
    assert ("git+https://github.com/<owner>/pulumi-d6.git" in text) is commented
    assert "Secret-77" not in text


# ---------------------------------------------------------- codegen --write

STACK_FILE = """\
# Production stack: reviewed by the platform team.
encryptionsalt: v1:abc==
config:
  d6:username: me   # the integrator
  d6:password:
    secure: v1:AAAA
  # schools we service by hand
  estate:integrations:
    - schoolId: 1001  # kept inactive on purpose
      apiTypeId: 9
      active: false
  estate:activateAllAuthorised: [9]
"""


def test_codegen_write_merges_and_keeps_keys_and_comments(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: estate\nruntime: python\n")
    stack = tmp_path / "Pulumi.prod.yaml"
    stack.write_text(STACK_FILE)
    os.chmod(stack, 0o640)
    result = invoke(emu, "codegen", "--write", str(stack))
    assert result.exit_code == 0, result.stderr
    assert "2 integration(s) added, 1 already declared kept" in result.stdout
    text = stack.read_text()
    for kept in (
        "# Production stack: reviewed by the platform team.",
        "encryptionsalt: v1:abc==",
        "d6:username: me   # the integrator",
        "secure: v1:AAAA",
        "# schools we service by hand",
        "- schoolId: 1001  # kept inactive on purpose",
        "estate:activateAllAuthorised: [9]",
    ):
        assert kept in text
    config = stack_config_of(stack)
    assert config["estate:integrations"] == [
        {"schoolId": 1001, "apiTypeId": 9, "active": False},
        {"schoolId": 1000, "apiTypeId": 8},
        {"schoolId": 1003, "apiTypeId": 8},
    ]
    assert stat.S_IMODE(stack.stat().st_mode) == 0o640
    again = invoke(emu, "codegen", "--write", str(stack))
    assert "0 integration(s) added, 3 already declared kept" in again.stdout


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("- just\n- a list\n", "not a stack file"),
        ("config: [1, 2]\n", "config must be a mapping"),
        ("config:\n  d6-integrations:integrations: {a: 1}\n", "must be a list"),
        (
            "config:\n  d6-integrations:integrations:\n    - {schoolId: x, apiTypeId: 8}\n",
            "schoolId must be",
        ),
        ("config: {\n", "not valid YAML"),
    ],
)
def test_codegen_write_refuses_a_broken_stack_file(
    emu: RunningEmulator, tmp_path: Path, content: str, expected: str
) -> None:
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(content)
    result = invoke(emu, "codegen", "--write", str(stack))
    assert result.exit_code == cli.EXIT_USAGE
    assert expected in result.stderr
    assert stack.read_text() == content


def test_init_checks_the_api_version_like_a_client(tmp_path: Path) -> None:
    result = runner.invoke(
        cli.app, ["init", str(tmp_path / "r"), "--api-version", "v3"], env={"COLUMNS": "300"}
    )
    assert result.exit_code == cli.EXIT_USAGE
    assert "--api-version" in result.stderr
    assert not (tmp_path / "r").exists()
    env = {"D6_BASE_URL": "http://d6-emulator:8787/api", "D6_ALLOW_INSECURE_HTTP": "true"}
    allowed = runner.invoke(cli.app, ["init", str(tmp_path / "ok"), "--api-version", "1"], env=env)
    assert allowed.exit_code == 0, allowed.stderr
    config = stack_config_of(tmp_path / "ok" / "Pulumi.prod.yaml")
    assert config["d6:baseUrl"] == "http://d6-emulator:8787/api"
    assert config["d6:apiVersion"] == "v1"
