"""`make demo` and `make demo-destroy`: without the Pulumi CLI (the engine-protocol path, run
through make as a newcomer runs it) and with it (a stand-in `pulumi` that records its calls)."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import requests

from pulumi_d6.emulator.pytest_plugin import RunningEmulator
from pulumi_d6.testing.processes import EmulatorProcess

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
CLI_NOT_FOUND = (
    "Pulumi CLI not found: the provider runs in `python -m pulumi.dynamic` and is driven over "
    "the engine's gRPC protocol, as `pulumi up` would drive it"
)


@pytest.fixture(scope="module")
def demo() -> Iterator[ModuleType]:
    """scripts/demo.py, loaded when a test asks for it (never at collection)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(SCRIPTS))
        spec = importlib.util.spec_from_file_location("demo_script", SCRIPTS / "demo.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    for name in ("demo_engine", "demo_state"):
        sys.modules.pop(name, None)


# ------------------------------------------------------------ without the CLI, through make


def path_without_pulumi() -> str:
    return os.pathsep.join(
        d for d in os.environ["PATH"].split(os.pathsep) if d and not (Path(d) / "pulumi").exists()
    )


def make(target: str, tmp_path: Path) -> str:
    """``make TARGET`` as a user runs it, with the demo's files in ``tmp_path`` and no CLI."""
    path = path_without_pulumi()
    make_bin = shutil.which("make", path=path)
    if make_bin is None:
        pytest.skip("make is not installed")
    args = f"--port 0 --db {tmp_path / 'demo.db'} --state {tmp_path / 'state.json'}"
    result = subprocess.run(
        [make_bin, "-s", "-o", "install", target, f"BIN={Path(sys.executable).parent}",
         f"DEMO_ARGS={args}"],
        cwd=ROOT, env={**os.environ, "PATH": path}, capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def sections(output: str) -> dict[str, list[str]]:
    """The printed operations: title (up to its first parenthesis) -> its lines."""
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for line in output.splitlines():
        title = re.fullmatch(r"--- (.+?) ---", line)
        if title:
            current = found.setdefault(title.group(1).split(" (")[0], [])
        else:
            current.append(line)
    return found


ROW = r"  ([+~-]+)\s+(school-\d+-api-\d+)\s+(\w+)\s+(.*?)(?:\s{2,}(.*))?"


def rows(lines: list[str]) -> list[tuple[str, str, str, str, str]]:
    """Resource rows: (sign, name, operation, school name, what changed)."""
    found = []
    for line in lines:
        row = re.fullmatch(
            r"  ([+~-]+)\s+(school-\d+-api-\d+)\s+(\w+)\s+(.*?)(?:\s{2,}(.*))?", line
        )
        if row:
            found.append((row[1], row[2], row[3], row[4], row[5] or ""))
    return found


def provider_requests(lines: list[str]) -> str:
    return next(line.strip() for line in lines if "from the provider" in line)


def live(db: Path) -> dict[str, bool | None]:
    with EmulatorProcess("--db", str(db)) as emu:
        return {f"{s}/{t}": emu.admin.is_active(s, t) for s in range(1000, 1005) for t in (8, 9)}


def test_make_demo_twice_then_destroy_without_the_cli(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    first = make("demo", tmp_path)
    assert first.splitlines()[0] == CLI_NOT_FOUND
    steps = sections(first)
    assert list(steps) == [
        "preview", "up", "a change made in d6: school-1000-api-8", "refresh",
        "up after the refresh", "up again",
    ]  # fmt: skip
    preview = rows(steps["preview"])
    assert len(preview) == 8
    assert {(sign, op, school) for sign, _, op, school, _ in preview} == {
        ("+", "create", "(known after up)")
    }
    assert provider_requests(steps["preview"]) == (
        "d6 received 0 requests from the provider: 0 change requests, 0 reads"
    )
    created = rows(steps["up"])
    assert [name for _, name, _, _, _ in created] == [
        "school-1000-api-8", "school-1001-api-8", "school-1002-api-8",
        *(f"school-{s}-api-9" for s in range(1000, 1005)),
    ]  # fmt: skip
    assert created[0][2:] == ("created", "Greenfield Primary School", "active: true")
    assert created[2][2:] == ("created", "Hilltop Primary School", "active: false")
    assert created[3][4] == "active: true, deactivate_on_destroy: false"
    activations = re.search(r"(\d+) change requests", provider_requests(steps["up"]))
    assert activations is not None
    assert int(activations[1]) >= 7, "one per integration it activated"
    # a change in d6, seen by refresh, put back by the next up; then an up with nothing to do
    assert rows(steps["refresh"]) == [
        ("~", "school-1000-api-8", "updated", "Greenfield Primary School", "active: true => false")
    ]
    assert rows(steps["up after the refresh"]) == [
        ("~", "school-1000-api-8", "updated", "Greenfield Primary School", "active: false => true")
    ]
    assert provider_requests(steps["up after the refresh"]) == (
        "d6 received 1 request from the provider: 1 change request, 0 reads"
    )
    assert rows(steps["up again"]) == []
    assert "  Resources: 8 unchanged" in steps["up again"]
    assert provider_requests(steps["up again"]) == (
        "d6 received 0 requests from the provider: 0 change requests, 0 reads"
    )
    assert state.exists()
    active_in_d6 = {"1000/8", "1001/8", *(f"{s}/9" for s in range(1000, 1005))}
    assert {k for k, v in live(tmp_path / "demo.db").items() if v} == active_in_d6

    second = make("demo", tmp_path)
    assert second.splitlines()[0] == CLI_NOT_FOUND
    assert list(sections(second)) == ["preview", "up"]
    assert provider_requests(sections(second)["up"]) == (
        "d6 received 0 requests from the provider: 0 change requests, 0 reads"
    )
    assert rows(second.splitlines()) == [], "nothing to create, update or delete"
    assert second.count("Resources: 8 unchanged") == 2
    assert re.search(r"^this run: d6 received \d+ requests?: 0 change requests", second, re.M)

    destroyed = make("demo-destroy", tmp_path)
    gone = rows(sections(destroyed)["destroy"])
    assert [row[1] for row in gone][::-1] == [row[1] for row in created]
    assert {row[:1] + row[2:3] for row in gone} == {("-", "deleted")}
    what = {row[1]: row[4] for row in gone}
    assert what["school-1000-api-8"] == what["school-1001-api-8"] == "deactivated"
    assert what["school-1002-api-8"] == "was inactive: no request"
    assert what["school-1003-api-9"] == (
        "forgotten: deactivate_on_destroy is false, d6 left as it is"
    )
    assert "d6 received 2 requests from the provider: 2 change requests, 0 reads" in destroyed
    assert not state.exists()
    assert {k for k, v in live(tmp_path / "demo.db").items() if v} == {
        f"{s}/9" for s in range(1000, 1005)
    }, "discovered entries are forgotten, never deactivated"


def test_a_broken_state_file_is_a_clear_error(
    demo: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(demo, "pulumi_path", lambda: None)
    state = tmp_path / "state.json"
    state.write_text('{"version": 1, "resources": [{"urn": "x"}]}')
    args = ["--port", "0", "--db", str(tmp_path / "d.db"), "--state", str(state)]
    assert demo.main(["up", *args]) == 1
    err = capfd.readouterr().err
    assert f"demo failed: {state} is not a demo state file (KeyError)" in err
    assert "Traceback" not in err
    assert state.read_text() == '{"version": 1, "resources": [{"urn": "x"}]}', "left as it was"


def write_stack(root: Path, config: str) -> None:
    (root / "Pulumi.yaml").write_text("name: d6-integrations\nruntime: python\n")
    (root / "Pulumi.dev.yaml").write_text(f"config:\n{config}")


def run_engine(demo: ModuleType, action: str, root: Path, emulator: RunningEmulator) -> int:
    code: int = demo.demo_engine.run(
        action,
        root=root,
        state_file=root / "state.json",
        base_url=emulator.base_url,
        admin=emulator.admin,
        env={"D6_USERNAME": "demo", "D6_PASSWORD": "demo"},
    )
    return code


def test_an_invalid_stack_file_fails_naming_the_entry(
    demo: ModuleType,
    tmp_path: Path,
    d6_emulator: RunningEmulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_stack(tmp_path, "  d6-integrations:integrations:\n    - schoolId: 1000\n")
    assert run_engine(demo, "up", tmp_path, d6_emulator) == 1
    err = capsys.readouterr().err
    assert err.startswith("demo failed: ")
    assert err.endswith("Pulumi.dev.yaml: d6-integrations:integrations[0].apiTypeId is required\n")
    assert not (tmp_path / "state.json").exists()
    assert d6_emulator.admin.count(method="PATCH") == 0


def test_a_provider_refusal_ends_the_run_with_its_reason_and_keeps_the_state(
    demo: ModuleType,
    tmp_path: Path,
    d6_emulator: RunningEmulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    d6_emulator.admin.reset(seed=1)
    config = "  d6:maxDeactivations: 0\n  d6-integrations:integrations:\n"
    write_stack(tmp_path, config + "    - schoolId: 1000\n      apiTypeId: 8\n")
    assert run_engine(demo, "up", tmp_path, d6_emulator) == 0
    capsys.readouterr()
    assert run_engine(demo, "destroy", tmp_path, d6_emulator) == 1
    err = capsys.readouterr().err
    assert err.startswith("demo failed: Delete: ")
    assert "d6:maxDeactivations" in err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1
    assert d6_emulator.admin.is_active(1000, 8) is True
    assert "school-1000-api-8" in (tmp_path / "state.json").read_text(), "still in state"


# ------------------------------------------------------------ the run's own plumbing


def test_unknown_action_is_a_usage_error(
    demo: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert demo.main(["deploy"]) == 2
    assert "invalid choice: 'deploy'" in capsys.readouterr().err


def test_sigterm_ends_the_run_and_the_previous_handler_comes_back(demo: ModuleType) -> None:
    before = signal.getsignal(signal.SIGTERM)
    with demo.sigterm_exits():
        assert signal.getsignal(signal.SIGTERM) is not before
        with pytest.raises(SystemExit) as stopped:
            signal.raise_signal(signal.SIGTERM)
    assert stopped.value.code == 143
    assert signal.getsignal(signal.SIGTERM) is before


def test_demo_env_uses_a_file_backend_in_the_repo(demo: ModuleType) -> None:
    env = demo.demo_env(ROOT, {"PATH": "/bin"})
    assert env["PULUMI_BACKEND_URL"] == (ROOT / ".pulumi").as_uri()
    assert env["PULUMI_CONFIG_PASSPHRASE"] == ""
    assert (env["D6_USERNAME"], env["D6_PASSWORD"]) == ("demo", "demo")
    assert env["PATH"] == "/bin"


def test_running_emulator_is_seeded_and_stopped(demo: ModuleType, tmp_path: Path) -> None:
    with demo.running_emulator(port=0, db=tmp_path / "demo.db", seed=5) as emu:
        rows = requests.get(
            f"{emu.base_url}/v1/settings/clients",
            headers={"HTTP-X-USERNAME": "demo", "HTTP-X-PASSWORD": "demo"},
            timeout=10,
        ).json()
        assert len(rows) == 10
    with pytest.raises(requests.ConnectionError):
        requests.get(emu.base_url, timeout=2)


def test_running_emulator_stops_when_the_block_fails(demo: ModuleType, tmp_path: Path) -> None:
    seen: list[str] = []

    def fail_inside() -> None:
        with demo.running_emulator(port=0, db=tmp_path / "d.db", seed=0) as emu:
            seen.append(emu.base_url)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_inside()
    with pytest.raises(requests.ConnectionError):
        requests.get(seen[0], timeout=2)


# ------------------------------------------------------------ with the CLI (a stand-in)


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
def test_with_the_cli_main_runs_the_steps_in_order_and_stops_the_emulator(
    demo: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    action: str,
) -> None:
    log = fake_pulumi(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(demo, "PORT", 0)
    handler = signal.getsignal(signal.SIGTERM)
    assert demo.main([action, "--db", str(tmp_path / "demo.db")]) == 0
    assert signal.getsignal(signal.SIGTERM) is handler, "the run put its handler back"
    calls = log.read_text().splitlines()
    backend = (ROOT / ".pulumi").as_uri()
    assert calls == [
        f"stack select dev --create | {backend} | [] | demo",
        f"{action} --yes --stack dev | {backend} | [] | demo",
    ]
    out = capfd.readouterr().out
    assert CLI_NOT_FOUND not in out
    assert "10 authorised client integration(s)" in out, (
        "pulumi-d6 clients ran against the emulator"
    )
    base_url = next(line for line in out.splitlines() if line.startswith("d6 emulator running at "))
    with pytest.raises(requests.ConnectionError):
        requests.get(base_url.removeprefix("d6 emulator running at "), timeout=2)


def test_with_the_cli_a_failed_pulumi_step_is_reported_and_the_emulator_stopped(
    demo: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    fake_pulumi(tmp_path, exit_code=3)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(demo, "PORT", 0)
    assert demo.main(["up", "--db", str(tmp_path / "demo.db")]) == 3
    captured = capfd.readouterr()
    assert "demo failed:" in captured.err
    assert "up --yes --stack dev exited 3" in captured.err
    base_url = next(
        line for line in captured.out.splitlines() if line.startswith("d6 emulator running at ")
    )
    with pytest.raises(requests.ConnectionError):
        requests.get(base_url.removeprefix("d6 emulator running at "), timeout=2)


def test_with_the_cli_a_busy_port_names_the_port_and_the_fix(
    demo: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    fake_pulumi(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        monkeypatch.setattr(demo, "PORT", port)
        assert demo.main(["up", "--db", str(tmp_path / "demo.db")]) == 1
    err = capfd.readouterr().err
    assert "Traceback" not in err
    assert (
        f"demo failed: the d6 emulator did not start: port {port} on 127.0.0.1 is already in use"
        in err
    )
    assert f"fuser -k {port}/tcp" in err
    assert "pick another port with --port" in err
    assert not (tmp_path / "calls.log").exists(), "pulumi never ran"
