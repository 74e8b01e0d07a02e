"""What users install: the wheel, in a fresh virtualenv, imports and runs its CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import yaml

from pulumi_d6.testing.processes import EmulatorProcess

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_installs_into_a_fresh_venv(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    (wheel,) = dist.glob("pulumi_d6-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "pulumi_d6/py.typed" in names
    assert "pulumi_d6/emulator/app.py" in names
    assert not [n for n in names if n.startswith(("tests/", "examples/", "scripts/"))]

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)],
        check=True, capture_output=True, timeout=900,
    )  # fmt: skip
    probe = "import pulumi_d6 as p; print(p.__version__, p.ClientIntegration.__name__)"
    imported = subprocess.run(
        [str(python), "-c", probe],
        check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert imported.stdout.split() == ["0.1.0", "ClientIntegration"]
    cli = env_dir / "bin" / "pulumi-d6"
    helped = subprocess.run(
        [str(cli), "--help"], check=True, capture_output=True, text=True, timeout=120
    )
    assert "clients" in helped.stdout
    assert "codegen" in helped.stdout
    without_extra = subprocess.run(
        [str(cli), "emulator"], capture_output=True, text=True, timeout=120, check=False
    )
    assert without_extra.returncode == 2
    assert "pip install 'pulumi-d6[emulator]'" in without_extra.stderr

    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", f"{wheel}[emulator]"],
        check=True, capture_output=True, timeout=900,
    )  # fmt: skip
    with EmulatorProcess(
        "--seed", "3", "--password", PASSWORD, command=[str(cli), "emulator"], cwd=str(tmp_path)
    ) as server:  # fmt: skip
        assert server.first_line.startswith("d6 emulator listening on http://127.0.0.1:")
        server.admin.set_active(1000, 8, True)
        server.admin.set_active(1002, 9, True)
        init_a_repository_as_a_user_would(tmp_path, env_dir, server.base_url)
    assert server.proc.returncode == 0


PASSWORD = "Wheel-Init-Pw-3305"
RUNNER = """\
\"\"\"Run a generated repository's program under Pulumi's mocks, as `pulumi up` would.\"\"\"
import asyncio, json, os, runpy, sys
import pulumi
from ruamel.yaml import YAML

repo, stack, password = sys.argv[1], sys.argv[2], sys.argv[3]
config = YAML(typ="safe").load(open(os.path.join(repo, f"Pulumi.{stack}.yaml")))["config"]
config["d6:password"] = password
project = YAML(typ="safe").load(open(os.path.join(repo, "Pulumi.yaml")))["name"]
os.environ["PULUMI_CONFIG"] = json.dumps(
    {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
)

class Mocks(pulumi.runtime.Mocks):
    def __init__(self):
        self.seen = []
    def new_resource(self, args):
        i = args.inputs
        self.seen.append(
            [args.name, int(i["school_id"]), int(i["api_type_id"]), i["active"],
             i["deactivate_on_destroy"]]
        )
        return f"{int(i['school_id'])}/{int(i['api_type_id'])}", dict(i)
    def call(self, args):
        return {}, None

asyncio.set_event_loop(asyncio.new_event_loop())
mocks = Mocks()
pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False)
os.chdir(repo)

@pulumi.runtime.test
def run():
    runpy.run_path("__main__.py", run_name="__main__")
    return pulumi.Output.from_input(1)

run()
print(json.dumps(sorted(mocks.seen)))
"""


def init_a_repository_as_a_user_would(tmp_path: Path, env_dir: Path, base_url: str) -> None:
    """`pulumi-d6 init --adopt` from the installed wheel, in a folder outside the checkout."""
    env = {
        "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "D6_USERNAME": "demo",
        "D6_PASSWORD": PASSWORD,
        "D6_BASE_URL": base_url,
    }
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run(
        ["pulumi-d6", "init", "my-d6", "--adopt", "--activate-all-authorised", "9"],
        cwd=work, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "pulumi config set --secret d6:password" in done.stdout
    repo = work / "my-d6"
    files = {str(p.relative_to(repo)): p.read_text() for p in repo.rglob("*") if p.is_file()}
    assert sorted(files) == sorted(
        [".github/workflows/d6-integrations.yml", ".gitignore", "Pulumi.prod.yaml", "Pulumi.yaml",
         "README.md", "__main__.py", "requirements.txt"]
    )  # fmt: skip
    assert all(PASSWORD not in text for text in files.values())
    project = yaml.safe_load(files["Pulumi.yaml"])
    assert project["runtime"]["options"]["virtualenv"] == "venv"
    workflow = files[".github/workflows/d6-integrations.yml"]
    assert "python -m venv venv && venv/bin/pip install -r requirements.txt" in workflow
    assert yaml.safe_load(workflow)["env"]["STACK"] == "prod"
    # Installed from a local wheel: pinned by version, with a comment on pointing it elsewhere.
    assert files["requirements.txt"].splitlines()[-1] == "pulumi-d6==0.1.0"
    assert "git+https://github.com/<owner>/pulumi-d6.git" in files["requirements.txt"]
    config = yaml.safe_load(files["Pulumi.prod.yaml"])["config"]
    assert config["my-d6:integrations"] == [
        {"schoolId": 1000, "apiTypeId": 8},
        {"schoolId": 1002, "apiTypeId": 9},
    ]
    runner = tmp_path / "run_generated.py"
    runner.write_text(RUNNER)
    ran = subprocess.run(
        [str(env_dir / "bin" / "python"), str(runner), str(repo), "prod", PASSWORD],
        cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == [
        ["school-1000-api-8", 1000, 8, True, True],
        ["school-1000-api-9", 1000, 9, True, False],
        ["school-1001-api-9", 1001, 9, True, False],
        ["school-1002-api-9", 1002, 9, True, True],
    ]
    again = subprocess.run(
        ["pulumi-d6", "init", "my-d6"],
        cwd=work, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert again.returncode == 2
    assert "nothing was written" in again.stderr
    assert {
        str(p.relative_to(repo)): p.read_text() for p in repo.rglob("*") if p.is_file()
    } == files
