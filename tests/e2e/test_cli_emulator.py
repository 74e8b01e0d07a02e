"""`pulumi-d6 emulator` as a user runs it: first line, plain HTTP use, Ctrl-C, no secrets logged,
credentials from the client's own variables, and the README's curl form for a non-ASCII password."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from pulumi_d6.testing.processes import EmulatorProcess, without_credentials

PASSWORD = "Cli-Emulator-Pw-8812"
ENV_PASSWORD = "Env-Canary-Pw-5531"
README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
V2 = "/v2/settings/clientintegrations"


def listing(emu: EmulatorProcess, username: str, password: str) -> int:
    headers = {"HTTP-X-USERNAME": username, "HTTP-X-PASSWORD": password}
    return requests.get(f"{emu.base_url}{V2}", headers=headers, timeout=10).status_code


def shown_to_ps(emu: EmulatorProcess) -> str:
    """The emulator's command line as `ps` shows it (Linux), else as started."""
    cmdline = Path(f"/proc/{emu.proc.pid}/cmdline")
    return cmdline.read_text().replace("\0", " ") if cmdline.exists() else " ".join(emu.command)


def bash(command: str, env: dict[str, str]) -> Any:
    """What a shell line prints, read as JSON."""
    done = subprocess.run(
        ["bash", "-c", command], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(done.stdout)


def test_cli_emulator_serves_until_ctrl_c_and_never_logs_the_password(tmp_path: Path) -> None:
    db = tmp_path / "state" / "d6.db"
    emu = EmulatorProcess(
        "--seed", "50", "--db", str(db), "--password", PASSWORD, "--access-log",
        "--page-size", "5", env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    with emu:
        assert emu.first_line.startswith("d6 emulator listening on http://127.0.0.1:")
        assert emu.base_url.endswith("/api")
        base = emu.base_url
        headers = {"HTTP-X-USERNAME": "demo", "HTTP-X-PASSWORD": PASSWORD}
        page = requests.get(f"{base}/v2/settings/clientintegrations", headers=headers, timeout=10)
        assert page.status_code == 200
        assert len(page.json()["data"]) == 5
        assert "next_cursor" in page.json()["meta"]
        changed = requests.patch(
            f"{base}/v2/settings/clientintegrations",
            headers=headers,
            json={"school_id": 1000, "api_type_id": 8, "state": 1},
            timeout=10,
        )
        assert changed.json()["message"] == "Integration successfully activated"
        wrong = requests.get(
            f"{base}/v1/settings/clients", headers={"HTTP-X-PASSWORD": "x"}, timeout=10
        )
        assert wrong.status_code == 401
    assert emu.proc.returncode == 0, emu.errors
    printed = emu.output  # the banner, stdout and stderr: everything a user's terminal shows
    assert "GET /api/v2/settings/clientintegrations" in printed, "the access log is on"
    assert "401" in printed, "the refused request is logged too"
    assert PASSWORD not in printed
    assert (
        "accepts username 'demo' (default) and the password from --password (flags show in "
        "the process list: prefer D6_PASSWORD)" in printed
    )
    assert db.exists()


def test_credentials_exported_once_serve_the_emulator_and_the_client_alike() -> None:
    env = {
        **without_credentials(os.environ),
        "D6_USERNAME": "alice-integrator",
        "D6_PASSWORD": ENV_PASSWORD,
        "PYTHONUNBUFFERED": "1",
    }
    with EmulatorProcess("--seed", "2", "--access-log", env=env) as emu:
        assert ENV_PASSWORD not in shown_to_ps(emu)
        assert listing(emu, "alice-integrator", ENV_PASSWORD) == 200
        assert listing(emu, "demo", "demo") == 401
        clients = subprocess.run(
            [sys.executable, "-m", "pulumi_d6.cli", "clients", "--json"],
            env={**env, "D6_BASE_URL": emu.base_url}, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
        assert clients.returncode == 0, clients.stderr
        assert [row["school_id"] for row in json.loads(clients.stdout)] == [1000, 1000, 1001, 1001]
    printed = emu.output
    assert printed.splitlines()[2] == (
        "accepts username 'alice-integrator' (from D6_USERNAME) and the password from D6_PASSWORD"
    )
    assert "GET /api/v2/settings/clientintegrations" in printed, "the access log is on"
    assert ENV_PASSWORD not in printed


def test_a_flag_beats_the_variable() -> None:
    env = {**without_credentials(os.environ), "D6_USERNAME": "env-user", "D6_PASSWORD": PASSWORD}
    with EmulatorProcess("--username", "flag-user", "--password", "flag-pw", env=env) as emu:
        assert listing(emu, "flag-user", "flag-pw") == 200
        assert listing(emu, "env-user", PASSWORD) == 401
        assert listing(emu, "flag-user", PASSWORD) == 401
    assert "accepts username 'flag-user' (from --username) and the password from --password" in (
        emu.output
    )
    assert PASSWORD not in emu.output


def test_the_helper_emulator_takes_the_demo_credentials_whatever_the_shell_exports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("D6_USERNAME", "shell-user")
    monkeypatch.setenv("D6_PASSWORD", ENV_PASSWORD)
    with EmulatorProcess() as emu:
        config = emu.stack_config()
        assert listing(emu, config["d6:username"], config["d6:password"]) == 200
    assert (
        "accepts username 'demo' (default) and the default password 'demo' (export D6_PASSWORD "
        "to choose one)" in emu.output
    )


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            [],
            {"D6_PASSWORD": "\u20acuro-Canary-7"},
            "error: the password from D6_PASSWORD contains a character outside Latin-1 (such as "
            "\u20ac or an emoji), which an HTTP header cannot carry",
        ),
        (["--password", ""], {}, "error: the password from --password is empty"),
        (
            [],
            {"D6_USERNAME": " Canary-User"},
            "error: the username from D6_USERNAME starts with white space",
        ),
    ],
)
def test_credentials_no_client_could_send_are_refused_at_start(
    args: list[str], env: dict[str, str], message: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pulumi_d6.cli", "emulator", "--port", "0", *args],
        env={**without_credentials(os.environ), **env}, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert (result.returncode, result.stdout, result.stderr.strip()) == (2, "", message)
    assert "Canary" not in result.stderr


def test_the_readme_curl_form_for_a_non_ascii_password_works() -> None:
    """curl sends a header's bytes as the shell has them (UTF-8); d6 reads them as Latin-1, as
    the client sends them. The README's form converts first; the plain form is refused."""
    line = next(line for line in README.splitlines() if "iconv" in line and "curl" in line)
    env = {**without_credentials(os.environ), "D6_USERNAME": "demo", "D6_PASSWORD": "Grüße-4711"}
    with EmulatorProcess("--seed", "2", env=env) as emu:
        port = emu.base_url.split(":")[2].split("/")[0]
        converted = bash(line.replace("8787", port), env)
        assert len(converted["data"]) == 2
        plain = line.split("&& ", 1)[1].replace("$latin1_password", "$D6_PASSWORD")
        refused = bash(plain.replace("8787", port), env)
        assert refused == {"success": False, "message": "Invalid API credentials"}


def test_cli_emulator_rejects_bad_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pulumi_d6.cli", "emulator", "--page-size", "60", "--port", "0"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "page_size must be between 1 and max_page_size" in result.stderr


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda p: p.write_text("not a database\n" * 100), "file is not a database"),
        (lambda p: p.mkdir(), "unable to open database file"),
    ],
)
def test_a_db_that_is_not_a_database_is_one_line_and_exit_2(
    tmp_path: Path, make: Callable[[Path], object], problem: str
) -> None:
    db = tmp_path / "d6.db"
    make(db)
    result = subprocess.run(
        [sys.executable, "-m", "pulumi_d6.cli", "emulator", "--port", "0", "--db", str(db)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: --db {db}: not usable as the emulator's SQLite database ({problem})"
    )


def test_ctrl_c_right_after_start_is_a_clean_stop() -> None:
    emu = EmulatorProcess()
    assert emu.first_line.startswith("d6 emulator listening on ")
    assert emu.stop(signal.SIGINT, timeout=20) == 0


def test_seed_adds_to_a_kept_database_and_reset_starts_fresh(tmp_path: Path) -> None:
    db = str(tmp_path / "d6.db")
    with EmulatorProcess("--db", db, "--seed", "3") as first:
        first.admin.set_active(1000, 8, True)
        first.admin.authorise(5000, 8)
        assert first.admin.health()["schools"] == 4
    with EmulatorProcess("--db", db, "--seed", "5") as second:
        health = second.admin.health()
        assert (health["schools"], health["active"]) == (6, 1), "seeding adds, keeps the rest"
    with EmulatorProcess("--db", db, "--seed", "2", "--reset") as fresh:
        health = fresh.admin.health()
        assert (health["schools"], health["integrations"], health["active"]) == (2, 4, 0)
