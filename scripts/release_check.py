"""Check the distributions a release would publish, before anything is published.

``make release-check`` and the release workflow both run this file, so what is checked on a
laptop is what is checked on a tag. It builds the sdist and the wheel (the wheel from the sdist,
as an installer would), checks their metadata (twine, pyroma at 10/10), the wheel's contents
(check-wheel-contents) and that the version agrees everywhere, then installs the wheel into a fresh
virtualenv and smoke-tests it there, outside the checkout: ``pulumi-d6 --version``, the emulator,
``clients`` and ``init`` against it.

    python scripts/release_check.py [--outdir DIR] [--tag vX.Y.Z]

Needs ``build``, ``twine``, ``check-wheel-contents`` and ``pyroma`` beside the interpreter that
runs it (the ``dev`` extra has them). ``smoke`` is the part that runs inside the fresh virtualenv;
``types`` (in ``make lint``) gates pyright's type-completeness score of the public API.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import venv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Release-Smoke-Pw-7301"  # noqa: S105 - the throwaway emulator's credential


def version_of_source() -> str:
    """The one version: ``__version__`` in ``pulumi_d6/_version.py`` (pyproject reads it too)."""
    text = (ROOT / "pulumi_d6" / "_version.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"$', text, re.MULTILINE)
    if found is None:
        raise SystemExit("pulumi_d6/_version.py has no __version__ line")
    return found.group(1)


def run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Run a command, echo it, and fail the check with its output when it fails."""
    command = [str(a) for a in args]
    started = time.monotonic()
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    print(f"+ {' '.join(command)}  ({time.monotonic() - started:.1f} s)", flush=True)
    if done.returncode != 0:
        raise SystemExit(
            f"failed ({done.returncode}): {' '.join(command)}\n{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def check_version(dist: Path, version: str, tag: str | None) -> tuple[Path, Path]:
    """Exactly one sdist and one wheel, named for the version, which the changelog describes."""
    wheels = sorted(dist.glob("*.whl"))
    sdists = sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise SystemExit(f"expected one wheel and one sdist in {dist}, found {wheels + sdists}")
    wheel, sdist = wheels[0], sdists[0]
    if wheel.name != f"pulumi_d6-{version}-py3-none-any.whl":
        raise SystemExit(f"wheel {wheel.name} does not carry version {version}")
    if sdist.name != f"pulumi_d6-{version}.tar.gz":
        raise SystemExit(f"sdist {sdist.name} does not carry version {version}")
    if tag is not None and tag != f"v{version}":
        raise SystemExit(
            f"tag {tag} does not match the package version {version} (want v{version})"
        )
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    if not re.search(rf"^## \[{re.escape(version)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.M):
        raise SystemExit(f"CHANGELOG.md has no '## [{version}] - YYYY-MM-DD' section")
    return wheel, sdist


def check_distributions(dist: Path, sdist: Path, wheel: Path) -> None:
    python = sys.executable
    run(python, "-m", "twine", "check", "--strict", *sorted(dist.iterdir()))
    run(python, "-m", "check_wheel_contents", "--config", ROOT / "pyproject.toml", wheel)
    rating = run(python, "-m", "pyroma", "--min", "10", sdist)
    if "Final rating: 10/10" not in rating:
        raise SystemExit(f"pyroma rates the sdist below 10/10:\n{rating}")


def install_fresh(work: Path, wheel: Path) -> Path:
    """A new virtualenv (no system site-packages) with the wheel and its emulator extra."""
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=True, clear=True)
    python = env_dir / "bin" / "python"
    run(
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",  # byte-compiling every dependency is most of the install time
        f"{wheel}[emulator]",
    )
    return python


def smoke(version: str) -> None:
    """Inside the fresh virtualenv: what a user does first with an installed pulumi-d6."""
    bin_dir = Path(sys.executable).parent
    cli = str(bin_dir / "pulumi-d6")
    shown = run(cli, "--version").strip()
    if shown != f"pulumi-d6 {version}":
        raise SystemExit(f"pulumi-d6 --version says {shown!r}, want 'pulumi-d6 {version}'")

    plugin = subprocess.run(
        [sys.executable, "-c", "import pulumi_d6.emulator.pytest_plugin"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if "pip install 'pulumi-d6[testing]'" not in plugin.stderr:
        raise SystemExit(
            f"the pytest plugin without pytest does not say what to install:\n{plugin}"
        )

    with tempfile.TemporaryDirectory(prefix="pulumi-d6-smoke-") as temp:
        smoke_emulator(cli, Path(temp))
    print(f"smoke test passed: pulumi-d6 {version}, emulator, clients, init")


def smoke_emulator(cli: str, work: Path) -> None:
    """The emulator from the wheel; ``clients`` and ``init --adopt`` against it."""
    from pulumi_d6.testing.processes import EmulatorProcess  # the installed wheel's copy

    with EmulatorProcess(
        "--seed", "3", "--password", PASSWORD, command=[cli, "emulator"], cwd=str(work)
    ) as server:  # fmt: skip
        server.admin.set_active(1000, 8, True)
        env = {
            **os.environ,
            "HOME": str(work),
            "D6_USERNAME": "demo",
            "D6_PASSWORD": PASSWORD,
            "D6_BASE_URL": server.base_url,
        }
        listed = run(cli, "clients", "--json", cwd=work, env=env)
        if '"school_id": 1000' not in listed:
            raise SystemExit(f"pulumi-d6 clients did not list school 1000:\n{listed}")
        run(cli, "init", "my-d6", "--adopt", cwd=work, env=env)
        repo = work / "my-d6"
        for name in ("Pulumi.yaml", "Pulumi.prod.yaml", "__main__.py", "requirements.txt"):
            text = (repo / name).read_text(encoding="utf-8")
            if PASSWORD in text:
                raise SystemExit(f"init wrote the password into {name}")
        if "schoolId: 1000" not in (repo / "Pulumi.prod.yaml").read_text(encoding="utf-8"):
            raise SystemExit("init --adopt did not declare the active integration of school 1000")
    if server.proc.returncode != 0:
        raise SystemExit(f"the emulator did not stop cleanly:\n{server.output}")


def check_public_types(min_score: float) -> None:
    """pyright's type-completeness score of the public API (what users' checkers see)."""
    # PYTHONPATH: the checkout, whatever the editable mode; no version check on the network.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYRIGHT_PYTHON_IGNORE_WARNINGS": "1"}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "pyright"), "--pythonpath", sys.executable,
         "--verifytypes", "pulumi_d6", "--ignoreexternal", "--outputjson"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    try:
        score = float(json.loads(done.stdout)["typeCompleteness"]["completenessScore"])
    except (ValueError, KeyError) as error:
        raise SystemExit(f"pyright --verifytypes gave no score ({error}):\n{done.stderr}") from None
    print(f"pyright --verifytypes pulumi_d6: {score:.1%} of the public API typed")
    if score < min_score:
        raise SystemExit(
            f"below {min_score:.1%}: run `pyright --verifytypes pulumi_d6 --ignoreexternal` "
            "with PYTHONPATH=. to see the symbols that need annotations"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", nargs="?", choices=["all", "smoke", "types"], default="all")
    parser.add_argument("--outdir", type=Path, help="keep the built files here (default: temp)")
    parser.add_argument("--tag", help="the release tag, which must be v<version>")
    parser.add_argument("--min-type-score", type=float, default=0.95, help="for the types step")
    args = parser.parse_args(argv)
    version = version_of_source()
    if args.step == "smoke":
        smoke(version)
        return 0
    if args.step == "types":
        check_public_types(args.min_type_score)
        return 0

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pulumi-d6-release-") as temp:
        work = Path(temp)
        dist = (args.outdir or work / "dist").resolve()
        if dist.exists() and any(dist.iterdir()):
            raise SystemExit(f"{dist} is not empty: the check builds into an empty folder")
        run(sys.executable, "-m", "build", "--outdir", dist, ROOT)  # sdist, then wheel from it
        wheel, sdist = check_version(dist, version, args.tag)
        # The metadata checks and the fresh install are independent: run them side by side.
        with ThreadPoolExecutor(max_workers=2) as pool:
            checked = pool.submit(check_distributions, dist, sdist, wheel)
            installed = pool.submit(install_fresh, work, wheel)
            checked.result()
            python = installed.result()
        # -I: the installed wheel is imported, never this checkout.
        print(run(python, "-I", Path(__file__).resolve(), "smoke", cwd=work), end="")
    took = time.monotonic() - started
    print(f"release check passed for {wheel.name} and {sdist.name} in {took:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
