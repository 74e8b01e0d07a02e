"""The exit codes of every ``pulumi-d6`` command, the emulator's included (README, "CLI").

Kept apart from ``cli/`` so the emulator, which loads nothing of the client or the provider,
can exit with the same codes.
"""

EXIT_DRIFT = 1
"""Drift found (``drift --exit-code``), or a preview over its limit."""
EXIT_USAGE = 2
"""Usage or settings: a bad flag, stack file or configuration value."""
EXIT_CREDENTIALS = 3
EXIT_NOT_AUTHORISED = 4
EXIT_VALIDATION = 5
EXIT_UNREACHABLE = 6
EXIT_API = 7
