"""`make clean` removes what the fuzz tier may leave behind (schemathesis's and Hypothesis's
folders), run on a copy of the Makefile in an empty folder so the real tree keeps its .venv."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LEFTOVERS = (".schemathesis", ".hypothesis")


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_clean_removes_the_fuzzers_folders(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    for name in LEFTOVERS:
        (tmp_path / name / "examples").mkdir(parents=True)
        (tmp_path / name / "examples" / "case").write_text("x")
    kept = tmp_path / "pulumi_d6" / "kept.py"
    kept.parent.mkdir()
    kept.write_text("")
    subprocess.run(["make", "clean"], cwd=tmp_path, capture_output=True, timeout=60, check=True)
    assert [name for name in LEFTOVERS if (tmp_path / name).exists()] == []
    assert kept.exists(), "clean removes only what it names"
