"""What users install: the wheel, in a fresh virtualenv, then `init` as the README tells it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from pulumi_d6.emulator import INSTALL_HINT
from pulumi_d6.testing.processes import EmulatorProcess

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
PASSWORD = "Wheel-Init-Pw-3305"


def run(
    *args: str | Path, timeout: int = 900, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, check=False,
        **kwargs,  # type: ignore[call-overload]
    )  # fmt: skip
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done  # type: ignore[no-any-return]


@pytest.mark.timeout(900)  # a wheel build and three pip installs, on a shared machine
def test_wheel_installs_and_init_makes_a_repository_that_installs_and_tests_itself(
    tmp_path: Path,
) -> None:
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "build", "--wheel", "--outdir", dist, ROOT)
    (wheel,) = dist.glob("pulumi_d6-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "pulumi_d6/py.typed" in names
    assert "pulumi_d6/emulator/app.py" in names
    assert "pulumi_d6/templates/d6-integrations/tests/test_program.py" in names
    assert not [n for n in names if n.startswith(("tests/", "examples/", "scripts/"))]

    # A repository created on GitHub: README and .gitignore exist. Its own venv holds the copy
    # that runs init (README, "Install").
    repo = tmp_path / "my-d6"
    repo.mkdir()
    (repo / "README.md").write_text("# my-d6\nOurs.\n")
    (repo / ".gitignore").write_text("venv/\n")  # GitHub's Python one lacks .pulumi/
    venv_bin = repo / "venv" / "bin"
    run(sys.executable, "-m", "venv", repo / "venv")
    run(venv_bin / "pip", "install", "--quiet", wheel)
    probe = "import pulumi_d6 as p; print(p.__version__, p.ClientIntegration.__name__)"
    imported = run(venv_bin / "python", "-c", probe, timeout=120)
    assert imported.stdout.split() == ["0.1.0", "ClientIntegration"]
    cli = venv_bin / "pulumi-d6"
    assert "codegen" in run(cli, "--help", timeout=120).stdout
    without_extra = subprocess.run(
        [str(cli), "emulator"], capture_output=True, text=True, timeout=120, check=False
    )
    assert without_extra.returncode == 2
    assert INSTALL_HINT in without_extra.stderr.replace("\n", " ")
    # ... and the form the hint gives works while pulumi-d6 is on no index; the README installs
    # [testing] (the emulator and pytest, for tests/test_program.py).
    assert "whl[emulator]'" in INSTALL_HINT
    install = README.split("## Install", 1)[1].split("\n## ", 1)[0]
    assert "my-d6/venv/bin/pip install 'dist/pulumi_d6-0.1.0-py3-none-any.whl[testing]'" in install
    run(venv_bin / "pip", "install", "--quiet", f"{wheel}[testing]")

    with EmulatorProcess(
        "--seed", "3", "--password", PASSWORD, command=[str(cli), "emulator"], cwd=str(tmp_path)
    ) as server:  # fmt: skip
        assert server.first_line.startswith("d6 emulator listening on http://127.0.0.1:")
        server.admin.set_active(1000, 8, True)
        server.admin.set_active(1002, 9, True)
        env = {
            "PATH": f"{venv_bin}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(tmp_path),
            "D6_USERNAME": "demo",
            "D6_PASSWORD": PASSWORD,
            "D6_BASE_URL": server.base_url,
        }
        pin = f"pulumi-d6 @ {wheel.as_uri()}"
        done = run(
            "pulumi-d6", "init", "my-d6", "--adopt", "--skip-existing",
            "--activate-all-authorised", "9", "--requirement", pin,
            cwd=tmp_path, env=env, timeout=120,
        )  # fmt: skip
        base_url = server.base_url
        # Without --requirement the pin is the wheel this copy came from, marked local only.
        marked = run("pulumi-d6", "init", "other", cwd=tmp_path, env=env, timeout=120)
    assert server.proc.returncode == 0
    assert "Kept 1 existing file(s) as they are: README.md" in done.stdout
    assert (
        "Added 5 line(s) to the existing .gitignore: .venv/, __pycache__/, *.pyc, .pulumi/, "
        "preview.json"
    ) in done.stdout
    assert "  venv/bin/pip install -r requirements.txt" in done.stdout.splitlines()
    assert "python3 -m venv" not in done.stdout, "its venv is there already"
    assert "which a CI runner cannot install" in done.stderr
    assert (repo / "README.md").read_text() == "# my-d6\nOurs.\n"
    files = {
        str(p.relative_to(repo)): p.read_text()
        for p in repo.rglob("*")
        if p.is_file() and p.relative_to(repo).parts[0] != "venv"
    }
    assert all(PASSWORD not in text for text in files.values())
    assert base_url not in files["Pulumi.prod.yaml"]
    assert "127.0.0.1" not in files["Pulumi.prod.yaml"]
    config = yaml.safe_load(files["Pulumi.prod.yaml"])["config"]
    assert "d6:baseUrl" not in config
    assert config["my-d6:integrations"] == [
        {"schoolId": 1000, "apiTypeId": 8},
        {"schoolId": 1002, "apiTypeId": 9},
    ]
    assert f"{pin}  # local only" in files["requirements.txt"].splitlines()
    other = (tmp_path / "other" / "requirements.txt").read_text().splitlines()
    assert [line for line in other if line.endswith("  # local only")] == [
        line for line in other if line.startswith(f"pulumi-d6 @ {wheel.as_uri()}")
    ]
    assert "which a CI runner cannot install" in marked.stderr

    # The README's next step: [testing] brought pytest, so the program's test runs as is.
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("D6_", "PYTEST"))}
    tested = run(
        venv_bin / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
        "tests/test_program.py", cwd=repo, env=clean, timeout=300,
    )  # fmt: skip
    assert "2 passed" in tested.stdout
    # What a fresh clone does (README of the new repository): its requirements install.
    run(venv_bin / "pip", "install", "--quiet", "-r", "requirements.txt", cwd=repo)
