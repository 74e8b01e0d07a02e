"""The real Pulumi CLI path, for machines that have `pulumi` (skipped where it cannot be installed).

Like Terraform's TF_ACC tier: the same lifecycle as tests/engine/test_engine.py, but through
`pulumi up`, `refresh` and `destroy` with a file backend in a temporary folder, against the
emulator.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pulumi_d6.emulator.pytest_plugin import RunningEmulator

pytestmark = pytest.mark.skipif(
    shutil.which("pulumi") is None,
    reason="needs the Pulumi CLI, which these machines cannot install",
)

PROGRAM = """
import pulumi
from pulumi_d6 import ClientIntegration

a = ClientIntegration("school-1000-api-8", school_id=1000, api_type_id=8)
b = ClientIntegration("school-1001-api-9", school_id=1001, api_type_id=9)
pulumi.export("names", [a.school_name, b.school_name])
"""


def test_up_noop_refresh_destroy_with_the_real_cli(
    tmp_path: Path, d6_emulator_factory: Callable[..., RunningEmulator]
) -> None:
    d6_emulator = d6_emulator_factory(seed=3, password="Real-Cli-Canary-4471")
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(
        "name: d6-cli-test\nruntime:\n  name: python\n  options:\n"
        f"    toolchain: pip\n    virtualenv: {sys.prefix}\n"
    )
    (project / "__main__.py").write_text(PROGRAM)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("D6_")},
        "PULUMI_BACKEND_URL": (tmp_path / "state").as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": "",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
    }
    (tmp_path / "state").mkdir()

    def pulumi(*args: str) -> str:
        result = subprocess.run(
            ["pulumi", *args, "--non-interactive"], cwd=project, env=env,
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        assert d6_emulator.password not in result.stdout + result.stderr
        return result.stdout

    pulumi("stack", "init", "dev")
    pulumi("config", "set", "d6:baseUrl", d6_emulator.base_url)
    pulumi("config", "set", "d6:username", d6_emulator.username)
    pulumi("config", "set", "--secret", "d6:password", d6_emulator.password)

    pulumi("up", "--yes")
    assert d6_emulator.admin.is_active(1000, 8) is True
    assert d6_emulator.admin.is_active(1001, 9) is True

    d6_emulator.admin.clear_requests()
    pulumi("up", "--yes")
    assert d6_emulator.admin.count() == 0, "a run with nothing to change makes no API calls"

    d6_emulator.admin.set_active(1000, 8, False)
    pulumi("refresh", "--yes")
    pulumi("up", "--yes")
    assert d6_emulator.admin.is_active(1000, 8) is True, "drift repaired"

    exported = pulumi("stack", "export", "--show-secrets")
    assert d6_emulator.password not in exported

    pulumi("destroy", "--yes")
    assert d6_emulator.admin.is_active(1000, 8) is False
    assert d6_emulator.admin.is_active(1001, 9) is False
