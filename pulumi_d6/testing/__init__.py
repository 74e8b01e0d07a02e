"""Test tools shipped with the package: the engine-protocol harness and the emulator process.

Tests, benchmarks and the demo import them from here (never from ``tests/``), as python-gitlab
ships its fixtures. ``engine`` needs only the Pulumi SDK; ``processes`` runs the emulator CLI.
"""
