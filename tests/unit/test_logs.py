"""``D6_LOG_LEVEL``: a value that is not a level is said once, not silently ignored."""

from __future__ import annotations

import subprocess
import sys


def test_a_level_that_is_not_one_is_said_once_on_stderr() -> None:
    code = (
        "from pulumi_d6.logs import configure_from_env\n"
        "configure_from_env(); configure_from_env()\n"
        "import logging; print(logging.getLogger('pulumi_d6').handlers)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"D6_LOG_LEVEL": "verbose", "PATH": ""},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert result.stderr == (
        "warning: D6_LOG_LEVEL='VERBOSE' is not a level (DEBUG, INFO, WARNING, ERROR); "
        "d6 logging stays off\n"
    )
    assert result.stdout == "[]\n"


def test_a_level_attaches_one_handler() -> None:
    code = (
        "from pulumi_d6.logs import configure_from_env\n"
        "configure_from_env(); configure_from_env()\n"
        "import logging; print(len(logging.getLogger('pulumi_d6').handlers))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"D6_LOG_LEVEL": " debug ", "PATH": ""},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert (result.stdout, result.stderr) == ("1\n", "")
