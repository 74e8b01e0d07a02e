"""Shared fixtures: the emulator plugin."""

from __future__ import annotations

pytest_plugins = ["pulumi_d6.emulator.pytest_plugin"]
