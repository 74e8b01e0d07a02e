"""A local, faithful d6 Integrate API for trying and testing pulumi-d6 without a d6 account.

Needs the ``emulator`` extra: ``pip install 'pulumi-d6[emulator]'``.
"""

from __future__ import annotations

INSTALL_HINT = "the d6 emulator needs its extra: pip install 'pulumi-d6[emulator]'"

try:
    import fastapi  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised by the CLI test in a bare venv
    raise ImportError(INSTALL_HINT) from exc

from .admin import EmulatorAdmin  # noqa: E402
from .app import EmulatorConfig, create_app  # noqa: E402
from .server import EmulatorServer  # noqa: E402
from .store import Store  # noqa: E402

__all__ = [
    "INSTALL_HINT",
    "EmulatorAdmin",
    "EmulatorConfig",
    "EmulatorServer",
    "Store",
    "create_app",
]
