"""What users install: the wheel, in a fresh virtualenv, imports and runs its CLI."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

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
    with EmulatorProcess("--seed", "3", command=[str(cli), "emulator"]) as server:
        assert server.first_line.startswith("d6 emulator listening on http://127.0.0.1:")
    assert server.proc.returncode == 0
