"""Shared fixtures: the emulator plugin and a clean client state per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pulumi_d6.client import D6Client

pytest_plugins = ["pulumi_d6.emulator.pytest_plugin"]


@pytest.fixture(autouse=True)
def _forget_learnt_methods() -> Iterator[None]:
    """The PATCH-to-POST fallback is remembered per process; tests must not leak it."""
    D6Client.forget_learnt_methods()
    yield
    D6Client.forget_learnt_methods()
