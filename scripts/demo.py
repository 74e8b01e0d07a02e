"""`make demo` / `make demo-destroy`: the root program against a local emulator, end to end.

Starts the emulator (seeded, port 8787, its own SQLite file kept across runs) and stops it however
the run ends. With the Pulumi CLI on PATH it points the CLI at a file backend inside the repo
(``.pulumi/``, empty passphrase) through environment variables only (your global `pulumi login`
is left alone), selects or creates stack ``dev``, runs ``pulumi up --yes`` (or ``destroy
--yes``) and prints ``pulumi-d6 clients``. Without the CLI it says so and drives the provider
over the engine's gRPC protocol instead (``demo_engine``), with state in ``.demo-state.json``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import demo_engine

from pulumi_d6.testing.processes import EmulatorProcess, EmulatorStartError

ROOT = Path(__file__).resolve().parents[1]
PORT = 8787  # Pulumi.dev.yaml points the dev stack here
SEED = 5
DB = ROOT / ".emulator" / "demo.db"
STATE = ROOT / ".demo-state.json"  # the engine-protocol path's state (the CLI's is .pulumi/)
STACK = "dev"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"  # noqa: S105 - the emulator's public demo credential
CLI_HINT = (
    "With the Pulumi CLI installed (https://www.pulumi.com/docs/install/), `make demo` runs "
    "`pulumi up` on the same stack."
)


def pulumi_path() -> str | None:
    return shutil.which("pulumi")


def demo_env(root: Path = ROOT, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for every demo command: file backend in the repo, demo credentials."""
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "PULUMI_BACKEND_URL": (root / ".pulumi").as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": "",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "D6_USERNAME": DEMO_USERNAME,
            "D6_PASSWORD": DEMO_PASSWORD,
        }
    )
    return env


@contextmanager
def running_emulator(
    port: int = PORT, db: Path = DB, seed: int = SEED
) -> Iterator[EmulatorProcess]:
    """Start ``pulumi-d6 emulator`` in the background and stop it however the block ends."""
    db.parent.mkdir(parents=True, exist_ok=True)
    with EmulatorProcess("--port", str(port), "--db", str(db), "--seed", str(seed)) as emu:
        emu.admin.health()
        yield emu


def run(command: list[str], env: Mapping[str, str]) -> None:
    print(f"$ {' '.join(command)}", flush=True)
    subprocess.run(command, env=dict(env), cwd=ROOT, check=True)


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(143)


@contextmanager
def sigterm_exits() -> Iterator[None]:
    """SIGTERM (make or CI cancelled) ends the run like Ctrl-C, so the emulator is stopped.

    The handler it replaced is put back when the block ends.
    """
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="demo.py", description="make demo / make demo-destroy")
    parser.add_argument("action", nargs="?", default="up", choices=["up", "destroy"])
    parser.add_argument("--db", type=Path, default=DB, help="the emulator's SQLite file")
    parser.add_argument(
        "--port", type=int, default=None, help="emulator port, without the CLI only (0: free)"
    )
    parser.add_argument(
        "--state", type=Path, default=STATE, help="state file, without the CLI only"
    )
    return parser.parse_args(argv)


def with_cli(pulumi: str, action: str, db: Path) -> int:
    """The real thing: ``pulumi up`` (or ``destroy``) on stack ``dev``."""
    env = demo_env()
    (ROOT / ".pulumi").mkdir(exist_ok=True)
    try:
        with running_emulator(PORT, db, SEED) as emu:
            base_url = emu.base_url
            print(f"d6 emulator running at {base_url}", flush=True)
            run([pulumi, "stack", "select", STACK, "--create"], env)
            run([pulumi, action, "--yes", "--stack", STACK], env)
            clients = [sys.executable, "-m", "pulumi_d6.cli", "clients", "--base-url", base_url]
            run(clients, env)
    except subprocess.CalledProcessError as exc:
        print(
            f"demo failed: {' '.join(map(str, exc.cmd))} exited {exc.returncode}", file=sys.stderr
        )
        return exc.returncode or 1
    except EmulatorStartError as exc:
        # e.g. port 8787 taken by a `pulumi-d6 emulator` started by hand: the emulator's own
        # message names the port and how to free it; Pulumi.dev.yaml points at that port.
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    return 0


def without_cli(action: str, port: int, db: Path, state: Path) -> int:
    """The same stack over the engine's gRPC protocol (``demo_engine``)."""
    print(demo_engine.CLI_NOT_FOUND, flush=True)
    env = {"D6_USERNAME": DEMO_USERNAME, "D6_PASSWORD": DEMO_PASSWORD}
    try:
        with running_emulator(port, db, SEED) as emu:
            print(f"d6 emulator running at {emu.base_url} (state in {db})", flush=True)
            code = demo_engine.run(
                action, root=ROOT, state_file=state, base_url=emu.base_url, admin=emu.admin, env=env
            )
    except EmulatorStartError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    if code == 0:
        print(CLI_HINT)
    return code


def main(argv: list[str]) -> int:
    try:
        args = parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage
        return exc.code if isinstance(exc.code, int) else 2
    with sigterm_exits():
        pulumi = pulumi_path()
        if pulumi is None:
            port = PORT if args.port is None else args.port
            return without_cli(args.action, port, args.db, args.state)
        return with_cli(pulumi, args.action, args.db)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
