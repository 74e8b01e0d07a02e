"""Shared fixtures: the emulator plugin, and a fresh provider "process" for each test."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

pytest_plugins = ["pulumi_d6.emulator.pytest_plugin"]


@pytest.fixture(autouse=True)
def _fresh_provider_process() -> Iterator[None]:
    """Providers made in this process share one client, reader and budget per configuration,
    as in a provider process; each test starts as a new process would (the module is looked up,
    not imported, so tests without Pulumi never load it)."""
    yield
    provider = sys.modules.get("pulumi_d6.provider")
    if provider is not None:
        provider.forget_connections()
