"""A local, faithful d6 Integrate API for trying and testing pulumi-d6 without a d6 account.

Needs the ``emulator`` extra: ``pip install 'pulumi-d6[emulator]'``. The names below load
FastAPI and uvicorn on first use, so ``pulumi_d6.emulator.cli`` (and with it the ``pulumi-d6``
CLI) can be imported without the extra and say what to install.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

INSTALL_HINT = "the d6 emulator needs its extra: pip install 'pulumi-d6[emulator]'"

if TYPE_CHECKING:
    from .admin import EmulatorAdmin
    from .app import create_app
    from .config import EmulatorConfig
    from .server import EmulatorServer
    from .store import Store

_WHERE = {
    "EmulatorAdmin": ".admin",
    "EmulatorConfig": ".config",
    "EmulatorServer": ".server",
    "Store": ".store",
    "create_app": ".app",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return getattr(import_module(_WHERE[name], __name__), name)


__all__ = [
    "INSTALL_HINT",
    "EmulatorAdmin",
    "EmulatorConfig",
    "EmulatorServer",
    "Store",
    "create_app",
]
