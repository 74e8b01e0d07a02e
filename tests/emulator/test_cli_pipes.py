"""`pulumi-d6` output in a pipe: tables as wide as help, and a reader that stops early."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from typer.testing import CliRunner

from pulumi_d6 import cli
from pulumi_d6.emulator.pytest_plugin import RunningEmulator

NAME = "Hoërskool Die Wilgers Akademie Pretoria"
runner = CliRunner()


@pytest.fixture
def emu(d6_emulator: RunningEmulator) -> RunningEmulator:
    d6_emulator.admin.authorise(1000, 8, school_name=NAME, admin_email_address="admin@wilgers.test")
    return d6_emulator


def env_for(emu: RunningEmulator, **extra: str) -> dict[str, Any]:
    # None unsets a variable for the run: the outer shell's width must not decide the test.
    base: dict[str, Any] = {"COLUMNS": None, "TERMINAL_WIDTH": None, "FORCE_TERMINAL": None}
    return {
        **base,
        "D6_USERNAME": emu.username,
        "D6_PASSWORD": emu.password,
        "D6_BASE_URL": emu.base_url,
        **extra,
    }


def widest_line(text: str) -> int:
    return max(len(line) for line in text.splitlines())


def test_a_piped_clients_table_is_120_columns_and_keeps_the_school_name_whole(
    emu: RunningEmulator,
) -> None:
    result = runner.invoke(cli.app, ["clients"], env=env_for(emu))
    assert result.exit_code == 0, result.output
    assert NAME in result.stdout  # on one line: at 80 columns rich wraps it
    assert 80 < widest_line(result.stdout) <= 120


@pytest.mark.parametrize("variable", ["COLUMNS", "TERMINAL_WIDTH"])
def test_columns_or_terminal_width_still_say_the_width(emu: RunningEmulator, variable: str) -> None:
    result = runner.invoke(cli.app, ["clients"], env=env_for(emu, **{variable: "60"}))
    assert result.exit_code == 0, result.output
    assert NAME not in result.stdout
    assert widest_line(result.stdout) <= 60


def closed_pipe_run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the real entry point with stdout a pipe whose reader has already gone (``| head``
    that has read its line): every write meets EPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-c", "from pulumi_d6.cli import main; main()", *args],
            stdout=write_end, stderr=subprocess.PIPE, env=env, text=True, timeout=120,
            check=False,
        )  # fmt: skip
    finally:
        os.close(write_end)


def test_a_reader_that_stops_early_ends_a_command_quietly_with_141(emu: RunningEmulator) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("D6_")}
    env.update(D6_USERNAME=emu.username, D6_PASSWORD=emu.password, D6_BASE_URL=emu.base_url)
    for args in (["clients"], ["clients", "--json"], ["--help"]):
        result = closed_pipe_run(args, env)
        assert (result.returncode, result.stderr) == (cli.EXIT_BROKEN_PIPE, ""), args
    assert cli.EXIT_BROKEN_PIPE == 141 != cli.EXIT_DRIFT
