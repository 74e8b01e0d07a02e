"""`make demo`'s script without the Pulumi CLI: the emulator's life, the environment, the steps."""

from __future__ import annotations

import importlib.util
import os
import socket
import stat
import sys
from pathlib import Path
from types import ModuleType

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def load_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo_script", ROOT / "scripts" / "demo.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


demo = load_demo()


def test_without_the_pulumi_cli_it_explains_how_to_install_and_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(demo, "pulumi_path", lambda: None)
    assert demo.main(["up"]) == 1
    text = capsys.readouterr().err
    assert "The Pulumi CLI is not on PATH" in text
    assert "https://get.pulumi.com" in text
    assert "make test" in text


def test_unknown_action_is_a_usage_error() -> None:
    assert demo.main(["deploy"]) == 2


def test_demo_env_uses_a_file_backend_in_the_repo() -> None:
    env = demo.demo_env(ROOT, {"PATH": "/bin"})
    assert env["PULUMI_BACKEND_URL"] == (ROOT / ".pulumi").as_uri()
    assert env["PULUMI_CONFIG_PASSPHRASE"] == ""
    assert (env["D6_USERNAME"], env["D6_PASSWORD"]) == ("demo", "demo")
    assert env["PATH"] == "/bin"


def test_running_emulator_is_seeded_and_stopped(tmp_path: Path) -> None:
    with demo.running_emulator(port=0, db=tmp_path / "demo.db", seed=5) as base_url:
        rows = requests.get(
            f"{base_url}/v1/settings/clients",
            headers={"HTTP-X-USERNAME": "demo", "HTTP-X-PASSWORD": "demo"},
            timeout=10,
        ).json()
        assert len(rows) == 10
    with pytest.raises(requests.ConnectionError):
        requests.get(base_url, timeout=2)


def test_running_emulator_stops_when_the_block_fails(tmp_path: Path) -> None:
    seen: list[str] = []

    def fail_inside() -> None:
        with demo.running_emulator(port=0, db=tmp_path / "d.db", seed=0) as url:
            seen.append(url)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_inside()
    with pytest.raises(requests.ConnectionError):
        requests.get(seen[0], timeout=2)


def fake_pulumi(tmp_path: Path, exit_code: int = 0) -> Path:
    """A stand-in `pulumi` that records its arguments and the demo's environment."""
    log = tmp_path / "calls.log"
    script = tmp_path / "pulumi"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$* | $PULUMI_BACKEND_URL | [$PULUMI_CONFIG_PASSPHRASE] | $D6_PASSWORD" >> {log}\n'
        f'case "$1" in up|destroy) exit {exit_code};; esac\n'
        "exit 0\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return log


@pytest.mark.parametrize("action", ["up", "destroy"])
def test_main_runs_the_steps_in_order_and_stops_the_emulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], action: str
) -> None:
    log = fake_pulumi(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(demo, "PORT", 0)
    monkeypatch.setattr(demo, "DB", tmp_path / "demo.db")
    assert demo.main([action]) == 0
    calls = log.read_text().splitlines()
    backend = (ROOT / ".pulumi").as_uri()
    assert calls == [
        f"stack select dev --create | {backend} | [] | demo",
        f"{action} --yes --stack dev | {backend} | [] | demo",
    ]
    out = capfd.readouterr().out
    assert "10 authorised client integration(s)" in out, (
        "pulumi-d6 clients ran against the emulator"
    )
    base_url = next(line for line in out.splitlines() if line.startswith("d6 emulator running at "))
    with pytest.raises(requests.ConnectionError):
        requests.get(base_url.removeprefix("d6 emulator running at "), timeout=2)


def test_a_failed_pulumi_step_is_reported_and_the_emulator_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    fake_pulumi(tmp_path, exit_code=3)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(demo, "PORT", 0)
    monkeypatch.setattr(demo, "DB", tmp_path / "demo.db")
    assert demo.main(["up"]) == 3
    captured = capfd.readouterr()
    assert "demo failed:" in captured.err
    assert "up --yes --stack dev exited 3" in captured.err
    base_url = next(
        line for line in captured.out.splitlines() if line.startswith("d6 emulator running at ")
    )
    with pytest.raises(requests.ConnectionError):
        requests.get(base_url.removeprefix("d6 emulator running at "), timeout=2)


def test_a_busy_port_names_the_port_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    fake_pulumi(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        monkeypatch.setattr(demo, "PORT", port)
        monkeypatch.setattr(demo, "DB", tmp_path / "demo.db")
        assert demo.main(["up"]) == 1
    err = capfd.readouterr().err
    assert "Traceback" not in err
    assert (
        f"demo failed: the d6 emulator did not start: port {port} on 127.0.0.1 is already in use"
        in err
    )
    assert f"fuser -k {port}/tcp" in err
    assert "pick another port with --port" in err
    assert not (tmp_path / "calls.log").exists(), "pulumi never ran"


def test_make_demo_targets_exist() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "demo: install\n\t$(BIN)/python scripts/demo.py up" in makefile
    assert "demo-destroy: install\n\t$(BIN)/python scripts/demo.py destroy" in makefile
    assert sys.executable
