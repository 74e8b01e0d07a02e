"""`pulumi-d6 init` and `codegen --write` as a user runs them, against the emulator."""

from __future__ import annotations

import hashlib
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from pulumi_d6 import cli, pins, scaffold
from pulumi_d6.emulator.pytest_plugin import RunningEmulator
from pulumi_d6.testing import authorised, run_project

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Init-Test-Pw-4417"
WORKFLOW = ".github/workflows/d6-integrations.yml"
PIN = "pulumi-d6 @ git+https://github.com/acme/pulumi-d6.git@0123abc"
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


def spec(**fields: Any) -> scaffold.RepoSpec:
    return scaffold.RepoSpec(**{"project": "d6-integrations", "pin": pins.Pin(PIN), **fields})


def test_init_adopt_writes_a_ready_repository(emu: RunningEmulator, tmp_path: Path) -> None:
    repo = tmp_path / "my-d6"
    result = invoke(
        emu, "init", str(repo), "--adopt", "--activate-all-authorised", "9", "--requirement", PIN
    )
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
        "d6:maxDeactivations": "10",
        "my-d6:activateAllAuthorised": [9],
        "my-d6:integrations": [
            {"schoolId": 1000, "apiTypeId": 8},
            {"schoolId": 1001, "apiTypeId": 9},
            {"schoolId": 1003, "apiTypeId": 8},
        ],
    }
    assert emu.base_url not in files["Pulumi.prod.yaml"], "D6_BASE_URL is read, never written"
    assert "# Greenfield Primary School" in files["Pulumi.prod.yaml"]
    assert files["requirements.txt"].splitlines()[0] == PIN
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

    # The generated program, with the generated stack file: the adopted integrations plus
    # every school d6 lists for API type 9.
    listing = [authorised(1000, 9), authorised(1001, 9, active=True), authorised(1002, 9)]
    run = run_project(repo, "prod", listing=listing)
    assert sorted((i.school_id, i.api_type_id, i.active) for i in run.integrations) == [
        (1000, 8, True),
        (1000, 9, True),
        (1001, 9, True),
        (1002, 9, True),
        (1003, 8, True),
    ]
    assert run.exports["activeCount"] == 5


def test_init_prints_every_file_and_config_key_it_wrote(tmp_path: Path) -> None:
    repo = tmp_path / "estate"
    result = runner.invoke(
        cli.app,
        ["init", str(repo), "--requirement", PIN, "--activate-all-authorised", "8",
         "--base-url", "https://d6.example/api/", "--username", "me"],
        env={"COLUMNS": "300"},
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    printed = result.stdout.splitlines()
    for name in every_file(repo):
        assert f"  {name}" in printed
    keys = [
        line.split(":", 2) for line in printed if line.startswith("  d6:") or "  estate:" in line
    ]
    assert [f"{k[0].strip()}:{k[1]}" for k in keys] == list(
        stack_config_of(repo / "Pulumi.prod.yaml")
    )
    assert "  d6:baseUrl: https://d6.example/api (--base-url)" in printed
    assert "  d6:username: me" not in printed, "init says where a value came from, not the value"
    written = stack_config_of(repo / "Pulumi.prod.yaml")
    assert (written["d6:baseUrl"], written["d6:username"]) == ("https://d6.example/api", "me")


def test_init_writes_no_value_from_the_environment_but_the_username(tmp_path: Path) -> None:
    env = {
        "D6_USERNAME": "env-user",
        "D6_BASE_URL": "http://127.0.0.1:33515/api",
        "D6_API_VERSION": "v1",
        "D6_MAX_DEACTIVATIONS": "99",
        "D6_TIMEOUT_SECONDS": "5",
    }
    result = runner.invoke(cli.app, ["init", str(tmp_path / "r"), "--project", "estate"], env=env)
    assert result.exit_code == 0, result.stderr
    text = (tmp_path / "r" / "Pulumi.prod.yaml").read_text()
    assert stack_config_of(tmp_path / "r" / "Pulumi.prod.yaml") == {
        "d6:username": "env-user",
        "d6:maxDeactivations": "10",
        "estate:integrations": [],
    }
    assert "33515" not in text
    assert "99" not in text


def test_init_reads_the_username_through_settings(tmp_path: Path) -> None:
    """D6_USERNAME is checked as a client checks it, so init never writes what a run refuses."""
    result = runner.invoke(
        cli.app, ["init", str(tmp_path / "r")], env={"D6_USERNAME": "demo\n", "COLUMNS": "300"}
    )
    assert result.exit_code == cli.EXIT_USAGE
    assert "D6_USERNAME ends with a newline" in result.stderr
    assert not (tmp_path / "r").exists()
    flag = runner.invoke(
        cli.app, ["init", str(tmp_path / "f"), "--username", "flag-user"], env={"D6_USERNAME": "e"}
    )
    assert flag.exit_code == 0, flag.stderr
    assert stack_config_of(tmp_path / "f" / "Pulumi.prod.yaml")["d6:username"] == "flag-user"
    assert "  d6:username: from --username" in flag.stdout.splitlines()


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
    result = invoke(emu, "init", str(repo), "--adopt", COLUMNS="300")
    assert result.exit_code == cli.EXIT_USAGE
    assert (
        "already has README.md; nothing was written. Pass --skip-existing to write only the "
        "missing files, --force to overwrite them"
    ) in result.stderr
    assert every_file(repo) == before
    forced = invoke(emu, "init", str(repo), "--force")
    assert forced.exit_code == 0
    assert (repo / "README.md").read_text().startswith("# repo")
    assert (repo / "LICENSE").read_text() == "kept\n"


def test_init_skip_existing_fills_a_repository_created_on_github(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    repo = tmp_path / "made-on-github"
    repo.mkdir()
    (repo / "README.md").write_text("# made-on-github\nOur words.\n")
    (repo / ".gitignore").write_text("*.log\nvenv/\n__pycache__/")  # GitHub's has more
    result = invoke(emu, "init", str(repo), "--adopt", "--skip-existing", COLUMNS="300")
    assert result.exit_code == 0, result.stderr
    assert (repo / "README.md").read_text() == "# made-on-github\nOur words.\n"
    assert (repo / ".gitignore").read_text() == (
        "*.log\nvenv/\n__pycache__/\n"
        "# added by pulumi-d6 init\n.venv/\n*.pyc\n.pulumi/\npreview.json\n"
    )
    assert sorted(every_file(repo)) == sorted([*scaffold.TEMPLATE_FILES, "Pulumi.prod.yaml"])
    assert (
        "Added 4 line(s) to the existing .gitignore: .venv/, *.pyc, .pulumi/, preview.json"
        in result.stdout
    )
    assert "Kept 1 existing file(s) as they are: README.md" in result.stdout
    assert "  README.md" not in result.stdout.splitlines()
    assert "Wrote 6 file(s)" in result.stdout
    again = invoke(emu, "init", str(repo), "--skip-existing")
    assert again.exit_code == 0
    assert f"Wrote no file to {repo}." in " ".join(again.stdout.split())
    assert "Wrote 0" not in again.stdout
    assert "Kept 8 existing file(s) as they are: .github/" in again.stdout
    assert "Added" not in again.stdout
    assert "Config keys" not in again.stdout, "the stack file was kept, so no key was written"
    assert (repo / ".gitignore").read_text().count("# added by pulumi-d6 init") == 1


def test_init_refuses_a_requirement_that_skip_existing_would_ignore(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    assert runner.invoke(cli.app, ["init", str(repo)], env={}).exit_code == 0
    stack_file = repo / "Pulumi.prod.yaml"
    stack_file.write_text(stack_file.read_text() + "  repo:note: edited by hand\n")
    before = every_file(repo)
    args = ["init", str(repo), "--skip-existing", "--requirement", PIN]
    refused = runner.invoke(cli.app, args, env={"COLUMNS": "400"})
    assert refused.exit_code == cli.EXIT_USAGE
    assert (
        "--requirement was given, but " + str(repo / "requirements.txt") + " already exists and "
        "--skip-existing keeps it; nothing was written. Edit its pulumi-d6 line to read "
        f"'{PIN}', then run init again without --requirement"
    ) in " ".join(refused.stderr.split())
    assert every_file(repo) == before
    lines = (repo / "requirements.txt").read_text().splitlines()
    (repo / "requirements.txt").write_text(
        "\n".join(PIN if line.startswith("pulumi-d6") else line for line in lines) + "\n"
    )
    edited = runner.invoke(cli.app, args, env={})
    assert edited.exit_code == 0, edited.stderr
    assert stack_file.read_text().endswith("  repo:note: edited by hand\n")


def test_init_next_steps_fit_the_folder(tmp_path: Path) -> None:
    fresh = runner.invoke(cli.app, ["init", str(tmp_path / "a"), "--requirement", PIN], env={})
    steps = fresh.stdout.split("Next:\n", 1)[1].splitlines()
    assert [step.strip() for step in steps] == [
        f"cd {tmp_path / 'a'}",
        "python3 -m venv venv && venv/bin/pip install -r requirements.txt",
        "venv/bin/python -m pytest tests/test_program.py",
        "pulumi stack select --create prod",
        "pulumi config set d6:username <your d6 username>",
        "pulumi config set --secret d6:password",
        "pulumi preview   # then: pulumi up",
    ]
    (tmp_path / "b" / "venv").mkdir(parents=True)
    named = runner.invoke(
        cli.app, ["init", str(tmp_path / "b"), "--requirement", PIN], env={"D6_USERNAME": "acme"}
    )
    steps = [step.strip() for step in named.stdout.split("Next:\n", 1)[1].splitlines()]
    assert steps[1] == "venv/bin/pip install -r requirements.txt", "the venv is there already"
    assert not any("d6:username" in step for step in steps), "init wrote the username"


def test_init_here_starts_without_cd_and_a_bad_folder_name_is_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "my d6!"
    folder.mkdir()
    monkeypatch.chdir(folder)
    done = runner.invoke(cli.app, ["init", ".", "--requirement", PIN], env={"COLUMNS": "400"})
    assert done.exit_code == 0, done.stderr
    steps = [step.strip() for step in done.stdout.split("Next:\n", 1)[1].splitlines()]
    assert steps[0] == "python3 -m venv venv && venv/bin/pip install -r requirements.txt"
    assert (
        "warning: the folder name 'my d6!' is not a valid Pulumi project name (letters, digits, "
        "_ . -), so the project is d6-integrations; init again with --project NAME --force to "
        "choose another"
    ) in " ".join(done.stderr.split())
    assert "name: d6-integrations" in (folder / "Pulumi.yaml").read_text()


def test_the_generated_program_test_passes_in_the_generated_repository(tmp_path: Path) -> None:
    repo = tmp_path / "estate"
    args = ["init", str(repo), "--requirement", PIN, "--activate-all-authorised", "8,9"]
    assert runner.invoke(cli.app, args, env={}).exit_code == 0
    stack_file = repo / "Pulumi.prod.yaml"
    stack_file.write_text(
        stack_file.read_text().replace(
            "  estate:integrations: []",
            "  estate:integrations:\n    - schoolId: 7\n      apiTypeId: 8\n      active: false",
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("D6_", "PYTEST"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_program.py"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


@pytest.mark.parametrize("extra", [[], ["--activate-all-authorised", "8"]])
def test_the_readme_testing_example_runs_in_a_generated_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: list[str]
) -> None:
    """As written, whatever activateAllAuthorised the stack file holds (a plain init: none)."""
    readme = (ROOT / "README.md").read_text().split("## Testing your program", 1)[1]
    example = readme.split("```python\n", 1)[1].split("```", 1)[0]
    repo = tmp_path / "estate"
    args = ["init", str(repo), "--requirement", PIN, *extra]
    assert runner.invoke(cli.app, args, env={}).exit_code == 0
    monkeypatch.chdir(repo)
    names: dict[str, Any] = {}
    exec(compile(example, "README.md", "exec"), names)  # noqa: S102 - the README's own code
    (test,) = [f for name, f in names.items() if name.startswith("test_")]
    test()


def test_the_readme_wheel_only_init_pins_the_hosted_wheel_with_its_hash(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    """The README's commands as written, with only a wheel file in the folder (no checkout)."""
    readme = (ROOT / "README.md").read_text().split("**With only the wheel**", 1)[1]
    script = readme.split("```sh\n", 1)[1].split("```", 1)[0]
    wheel = tmp_path / "pulumi_d6-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"a wheel's bytes")
    (tmp_path / "my-d6" / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "my-d6" / "venv" / "bin" / "pulumi-d6").symlink_to(
        Path(sys.executable).parent / "pulumi-d6"
    )
    env = {**os.environ, "D6_USERNAME": emu.username, "D6_PASSWORD": emu.password}
    env["D6_BASE_URL"] = emu.base_url
    done = subprocess.run(
        ["bash", "-euc", script], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    digest = hashlib.sha256(b"a wheel's bytes").hexdigest()
    pin = (tmp_path / "my-d6" / "requirements.txt").read_text().splitlines()
    assert (
        f"pulumi-d6 @ https://files.example.org/d6/pulumi_d6-0.1.0-py3-none-any.whl#sha256={digest}"
    ) in pin
    assert "local only" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--project", "bad name!"], "is not a valid Pulumi project name"),
        (["--stack", "a/b"], "is not a valid Pulumi stack name"),
        (
            ["--activate-all-authorised", "8,x"],
            "--activate-all-authorised '8,x': activateAllAuthorised[1] must be a whole number",
        ),
        (
            ["--activate-all-authorised", "8,9,8"],
            "--activate-all-authorised '8,9,8': activateAllAuthorised[2] repeats API type 8",
        ),
        (["--max-deactivations", "-1"], "--max-deactivations must be a whole number >= 0"),
        (["--base-url", "http://me:Url-Pw-5@d6.example/api"], "https://***@d6.example/api"),
        (["--skip-existing", "--force"], "--skip-existing and --force cannot be used together"),
        (["--requirement", "pulumi-d6"], "does not pin pulumi-d6 to a source"),
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


def test_init_says_plainly_when_ci_cannot_install_the_pin(tmp_path: Path) -> None:
    wheel = tmp_path / "dist" / "pulumi_d6-0.1.0-py3-none-any.whl"
    local = f"pulumi-d6 @ {wheel.as_uri()}"
    result = runner.invoke(
        cli.app, ["init", str(tmp_path / "r"), "--requirement", local], env={"COLUMNS": "400"}
    )
    assert result.exit_code == 0, result.stderr
    lines = (tmp_path / "r" / "requirements.txt").read_text().splitlines()
    assert f"{local}  # local only" in lines
    assert "warning: requirements.txt installs pulumi-d6 from a local path" in result.stderr
    assert "which a CI runner cannot install" in result.stderr
    said = " ".join(result.stderr.split())
    assert pins.EDIT_ADVICE in said
    assert f"a local path ({wheel.as_uri()})," in said, "the source is named whole"
    assert "init again" not in said, "init would keep requirements.txt: the fix is the edit"
    fine = runner.invoke(cli.app, ["init", str(tmp_path / "ok"), "--requirement", PIN], env={})
    assert "warning" not in fine.stderr
    assert "local only" not in (tmp_path / "ok" / "requirements.txt").read_text()


def test_the_example_workflow_is_what_init_writes() -> None:
    written = scaffold.render(spec())
    example = (ROOT / "examples" / "github-actions" / "d6-integrations.yml").read_text()
    assert example == written[WORKFLOW]


def test_the_workflow_says_to_edit_the_marked_line() -> None:
    """Not `init --requirement`: init keeps an existing requirements.txt."""
    workflow = scaffold.render(spec())[WORKFLOW]
    errors = [line for line in workflow.splitlines() if "::error file=requirements.txt::" in line]
    assert len(errors) == 2
    for line in errors:
        assert line.strip().endswith(
            f"(the line marked '# local only'), which CI cannot reach. {pins.EDIT_ADVICE}\""
        )
    assert "--requirement" not in workflow
    assert "pulumi-d6==" not in workflow


def test_a_version_pin_is_written_with_a_warning_about_the_name(tmp_path: Path) -> None:
    args = ["init", str(tmp_path / "r"), "--requirement", "pulumi-d6==0.1.0"]
    result = runner.invoke(cli.app, args, env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "r" / "requirements.txt").read_text().startswith("pulumi-d6==0.1.0\n")
    said = " ".join(result.stderr.split())
    assert f"warning: {pins.from_option('pulumi-d6==0.1.0').note}" in said


def test_the_template_folder_is_a_pulumi_new_template() -> None:
    folder = ROOT / "pulumi_d6" / "templates" / "d6-integrations"
    project = yaml.safe_load((folder / "Pulumi.yaml").read_text())
    assert project["name"] == "${PROJECT}"
    assert "d6:username" in project["template"]["config"]
    assert "d6:password" not in project["template"]["config"], "init and templates never hold it"
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == sorted(
        scaffold.TEMPLATE_FILES
    )


def test_the_template_requirements_fail_loudly_until_edited(tmp_path: Path) -> None:
    """Used as a `pulumi new` template, requirements.txt must never resolve a bare name."""
    requirements = ROOT / "pulumi_d6" / "templates" / "d6-integrations" / "requirements.txt"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "-r", requirements],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode != 0
    assert "Invalid requirement: 'EDIT ME: replace this line with a pulumi-d6 source" in done.stderr
    assert not re.search(r"^pulumi-d6\s*(==|$)", requirements.read_text(), re.M)


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_generated_readme_names_the_stack_and_its_yaml_reads(stack: str) -> None:
    readme = scaffold.render(spec(project="acme-schools", stack=stack))["README.md"]
    assert "<stack>" not in readme
    assert f"pulumi stack select --create {stack}" in readme
    assert f"## Declaring integrations (Pulumi.{stack}.yaml)" in readme
    (block,) = re.findall(r"```yaml\n(.*?)```", readme, re.S)
    config = yaml.safe_load(block)["config"]
    assert config["acme-schools:activateAllAuthorised"] == [9]
    lines = block.splitlines()
    for number, line in enumerate(lines):
        if line.lstrip().startswith("#"):
            key = lines[number + 1]
            indent = len(line) - len(line.lstrip())
            assert indent == len(key) - len(key.lstrip()), f"comment not aligned: {line!r}"
        else:
            assert " #" not in line, f"trailing comments drift when the name changes: {line!r}"


def test_init_help_reads_in_whole_sentences() -> None:
    listing = runner.invoke(cli.app, ["--help"], env={"COLUMNS": "80"}).stdout
    rows = [line.strip("│ ").rstrip() for line in listing.splitlines() if "│" in line]
    start = next(i for i, row in enumerate(rows) if row.startswith("init "))
    assert rows[start].endswith("Write a ready infrastructure repository for your d6"), rows
    assert rows[start + 1].strip() == "integrations."
    helped = runner.invoke(cli.app, ["init", "--help"], env={"COLUMNS": "300"}).stdout
    for flag in ("--requirement", "--base-url", "--skip-existing", "--force"):
        assert flag in helped


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
    assert "d6:baseUrl" not in config, "only --base-url writes it"
    assert config["d6:apiVersion"] == "v1"


def test_exclusive_mode_with_adopt_declares_what_is_active_and_does_not_warn(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    repo = tmp_path / "estate"
    args = ["init", str(repo), "--adopt", "--exclusive-api-types", "8", "--requirement", PIN]
    result = invoke(emu, *args, COLUMNS="300")
    assert result.exit_code == 0, result.stderr
    assert "exclusive mode without --adopt" not in result.stderr
    assert stack_config_of(repo / "Pulumi.prod.yaml")["estate:integrations"]
