"""pytest fixtures that run the d6 emulator as a real server on a free loopback port.

Enable them in a ``conftest.py`` with ``pytest_plugins = ["pulumi_d6.emulator.pytest_plugin"]``.
``d6_emulator`` shares one server per session and resets it before each test;
``d6_emulator_factory`` starts servers with their own configuration and stops them afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

try:
    import pytest
except ModuleNotFoundError as _missing:  # the release check imports it without pytest
    raise ModuleNotFoundError(
        "pulumi_d6.emulator.pytest_plugin needs pytest and the emulator: "
        "pip install 'pulumi-d6[testing]'",
        name=_missing.name,
    ) from None

from ..settings import stack_config_for
from .admin import EmulatorAdmin
from .config import EmulatorConfig
from .server import EmulatorServer


@dataclass
class RunningEmulator:
    """A started emulator: where it listens, its credentials and its admin helper."""

    server: EmulatorServer
    admin: EmulatorAdmin

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def username(self) -> str:
        return self.server.config.username

    @property
    def password(self) -> str:
        return self.server.config.password

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """Explicit settings for :func:`pulumi_d6.settings.resolve_settings` / ``D6Client``."""
        values: dict[str, Any] = {
            "username": self.username,
            "password": self.password,
            "base_url": self.base_url,
        }
        values.update(overrides)
        return values

    def stack_config(self, **overrides: str) -> dict[str, str]:
        """The same as ``d6:*`` stack config (string values)."""
        return stack_config_for(self.username, self.password, self.base_url, **overrides)


def _running(server: EmulatorServer) -> RunningEmulator:
    return RunningEmulator(server=server, admin=EmulatorAdmin(server.admin_url))


@pytest.fixture(scope="session")
def d6_emulator_server() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def d6_emulator(d6_emulator_server: EmulatorServer) -> Iterator[RunningEmulator]:
    """The session's emulator, reset to no schools, no faults and an empty request log."""
    running = _running(d6_emulator_server)
    running.admin.reset(seed=0)
    yield running
    running.admin.close()


@pytest.fixture
def d6_emulator_factory() -> Iterator[Callable[..., RunningEmulator]]:
    """Start emulators with their own ``EmulatorConfig`` fields and server options."""
    started: list[RunningEmulator] = []

    def start(
        *, db: str = ":memory:", seed: int = 0, access_log: bool = False, **config: Any
    ) -> RunningEmulator:
        server = EmulatorServer(
            EmulatorConfig(**config), db=db, seed=seed, access_log=access_log
        ).start()
        running = _running(server)
        started.append(running)
        return running

    yield start
    for running in started:
        running.admin.close()
        running.server.stop()
