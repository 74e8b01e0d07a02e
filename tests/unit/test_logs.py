"""``D6_LOG_LEVEL``: a value that is not a level is said once, not silently ignored."""

from __future__ import annotations

import subprocess
import sys

CONFIGURE_TWICE = (
    "from pulumi_d6.logs import configure_from_env\n"
    "configure_from_env(); configure_from_env()\n"
    "import logging; print(len(logging.getLogger('pulumi_d6').handlers))\n"
)


def configured_twice(level: str) -> tuple[str, str]:
    """(stdout: how many handlers, stderr) of a fresh process configured twice at ``level``."""
    result = subprocess.run(
        [sys.executable, "-c", CONFIGURE_TWICE],
        env={"D6_LOG_LEVEL": level, "PATH": ""},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return result.stdout, result.stderr


def test_a_level_that_is_not_one_is_said_once_on_stderr() -> None:
    assert configured_twice("verbose") == (
        "0\n",
        "warning: D6_LOG_LEVEL='VERBOSE' is not a level (DEBUG, INFO, WARNING, ERROR); "
        "d6 logging stays off\n",
    )


def test_a_level_attaches_one_handler() -> None:
    assert configured_twice(" debug ") == ("1\n", "")
