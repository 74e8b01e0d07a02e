"""Fixtures of the engine tier: provider processes started per test and stopped after it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from pulumi_d6.testing.engine import ProviderProcess

ProcessFactory = Callable[..., ProviderProcess]


@pytest.fixture
def process_factory() -> Iterator[ProcessFactory]:
    """Start ``python -m pulumi.dynamic`` processes (config, env); all stopped after the test."""
    started: list[ProviderProcess] = []

    def start(config: dict[str, str] | None, env: dict[str, str] | None = None) -> ProviderProcess:
        process = ProviderProcess(config, env)
        started.append(process)
        return process

    yield start
    for process in started:
        process.close()
