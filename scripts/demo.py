"""`make demo` / `make demo-destroy`: the root program against a local emulator, end to end.

Starts the emulator (seeded, port 8787, its own SQLite file), points the Pulumi CLI at a file
backend inside the repo (``.pulumi/``, empty passphrase) through environment variables only (your
global `pulumi login` is left alone), selects or creates stack ``dev``, runs ``pulumi up --yes``
(or ``destroy --yes``), prints ``pulumi-d6 clients``, and stops the emulator however it ends.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from pulumi_d6.testing.processes import EmulatorProcess, EmulatorStartError

ROOT = Path(__file__).resolve().parents[1]
PORT = 8787  # Pulumi.dev.yaml points the dev stack here
SEED = 5
DB = ROOT / ".emulator" / "demo.db"
STACK = "dev"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"  # noqa: S105 - the emulator's public demo credential
INSTALL_HELP = """\
The Pulumi CLI is not on PATH, and `make demo` drives it.
Install it (https://www.pulumi.com/docs/install/), for example:
    curl -fsSL https://get.pulumi.com | sh        # Linux and macOS
    brew install pulumi/tap/pulumi                # Homebrew
then run `make demo` again. Everything else works without it:
    make test                                     # the whole test suite
    .venv/bin/pulumi-d6 emulator --seed 50        # the local d6 emulator
"""


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
def running_emulator(port: int = PORT, db: Path = DB, seed: int = SEED) -> Iterator[str]:
    """Start ``pulumi-d6 emulator`` in the background and stop it however the block ends."""
    db.parent.mkdir(parents=True, exist_ok=True)
    with EmulatorProcess("--port", str(port), "--db", str(db), "--seed", str(seed)) as emu:
        emu.admin.health()
        yield emu.base_url


def run(command: list[str], env: Mapping[str, str]) -> None:
    print(f"$ {' '.join(command)}", flush=True)
    subprocess.run(command, env=dict(env), cwd=ROOT, check=True)


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(143)


def main(argv: list[str]) -> int:
    action = argv[0] if argv else "up"
    if action not in ("up", "destroy"):
        print("usage: demo.py [up|destroy]", file=sys.stderr)
        return 2
    pulumi = pulumi_path()
    if pulumi is None:
        print(INSTALL_HELP, file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    env = demo_env()
    (ROOT / ".pulumi").mkdir(exist_ok=True)
    try:
        with running_emulator(PORT, DB, SEED) as base_url:
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
