"""What a release promises: typed keywords, one version, checks that refuse a mismatched build."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import pulumi_d6
from pulumi_d6.client import D6Client

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def release_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "release_check", ROOT / "scripts" / "release_check.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_from_env_takes_the_settings_as_keywords() -> None:
    with D6Client.from_env(
        username="u", password="pw-1234", base_url="http://127.0.0.1:9/api", max_retries="2"
    ) as client:
        assert client.settings.username == "u"
        assert client.settings.max_retries == 2
        assert client.settings.source_of("base_url") == "argument base_url"


def test_a_misspelt_from_env_keyword_is_a_type_error(tmp_path: Path) -> None:
    program = tmp_path / "program.py"
    program.write_text(
        "from pulumi_d6 import D6Client\n"
        'D6Client.from_env(usernme="u")\n'
        'D6Client.from_env(username="u", password="p", max_deactivations="unlimited")\n'
    )
    checked = subprocess.run(
        [str(BIN / "pyright"), "--pythonpath", sys.executable, str(program)],
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYRIGHT_PYTHON_IGNORE_WARNINGS": "1"},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert checked.returncode == 1, checked.stdout
    assert 'program.py:2:19 - error: No parameter named "usernme"' in checked.stdout
    assert "1 error" in checked.stdout


def test_the_version_has_one_source() -> None:
    installed = importlib.metadata.metadata("pulumi-d6")
    assert installed["Version"] == pulumi_d6.__version__
    assert release_check().version_of_source() == pulumi_d6.__version__
    assert (
        'version = { attr = "pulumi_d6._version.__version__" }'
        in (ROOT / "pyproject.toml").read_text()
    )


def test_classifiers_name_each_supported_python() -> None:
    installed = importlib.metadata.metadata("pulumi-d6")
    assert installed["Requires-Python"] == ">=3.10"
    named = {
        c.rsplit(" :: ", 1)[1]
        for c in installed.get_all("Classifier") or []
        if c.startswith("Programming Language :: Python :: 3.")
    }
    assert named == {"3.10", "3.11", "3.12", "3.13"}


def built(tmp_path: Path, version: str, wheel_version: str | None = None) -> Path:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / f"pulumi_d6-{wheel_version or version}-py3-none-any.whl").write_bytes(b"")
    (dist / f"pulumi_d6-{version}.tar.gz").write_bytes(b"")
    return dist


def test_check_version_accepts_a_build_the_changelog_describes(tmp_path: Path) -> None:
    version = pulumi_d6.__version__
    wheel, sdist = release_check().check_version(built(tmp_path, version), version, f"v{version}")
    assert wheel.name == f"pulumi_d6-{version}-py3-none-any.whl"
    assert sdist.name == f"pulumi_d6-{version}.tar.gz"


def test_check_version_refuses_a_tag_for_another_version(tmp_path: Path) -> None:
    version = pulumi_d6.__version__
    with pytest.raises(SystemExit) as refused:
        release_check().check_version(built(tmp_path, version), version, "v9.9.9")
    assert str(refused.value) == (
        f"tag v9.9.9 does not match the package version {version} (want v{version})"
    )


def test_check_version_refuses_a_wheel_of_another_version(tmp_path: Path) -> None:
    version = pulumi_d6.__version__
    with pytest.raises(SystemExit) as refused:
        release_check().check_version(built(tmp_path, version, "0.0.1"), version, None)
    assert str(refused.value) == (
        f"wheel pulumi_d6-0.0.1-py3-none-any.whl does not carry version {version}"
    )


def test_check_version_refuses_a_version_the_changelog_lacks(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as refused:
        release_check().check_version(built(tmp_path, "7.7.7"), "7.7.7", None)
    assert str(refused.value) == "CHANGELOG.md has no '## [7.7.7] - YYYY-MM-DD' section"


def test_the_release_workflow_passes_the_security_linter_offline() -> None:
    workflow = ROOT / ".github" / "workflows" / "release.yml"
    linted = subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--min-severity", "medium", "--format", "plain",
         str(workflow)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert linted.returncode == 0, linted.stdout + linted.stderr
    text = workflow.read_text()
    uses = [line.split("uses: ", 1)[1] for line in text.splitlines() if "uses: " in line]
    assert uses, "the workflow uses no action"
    for action in uses:  # owner/name@<40 hex> # vX.Y.Z
        ref, _, comment = action.partition(" # ")
        assert len(ref.split("@", 1)[1]) == 40, action
        assert comment.startswith("v"), action
    assert text.count("id-token: write") == 1
    assert "persist-credentials: false" in text
