"""`pulumi-d6 emulator` as a user runs it: first line, plain HTTP use, Ctrl-C, no secrets logged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from pulumi_d6.testing.processes import EmulatorProcess

PASSWORD = "Cli-Emulator-Pw-8812"


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
    assert db.exists()


def test_cli_emulator_rejects_bad_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pulumi_d6.cli", "emulator", "--page-size", "60", "--port", "0"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "page_size must be between 1 and max_page_size" in result.stderr


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
