"""A local, faithful d6 Integrate API for trying and testing pulumi-d6 without a d6 account.

Needs the ``emulator`` extra, installed from the same source as pulumi-d6 (:data:`INSTALL_HINT`).
The names below load FastAPI and uvicorn on first use, so ``pulumi_d6.emulator.cli`` (and with it
the ``pulumi-d6`` CLI) can be imported without the extra and say what to install.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .._version import __version__

INSTALL_HINT = (
    "the d6 emulator needs the `emulator` extra (FastAPI and uvicorn). pulumi-d6 is not on a "
    "package index, so install it again from the source you have, with the extra: "
    f"pip install 'dist/pulumi_d6-{__version__}-py3-none-any.whl[emulator]' (a wheel you built) "
    "or pip install 'pulumi-d6[emulator] @ git+https://github.com/<owner>/pulumi-d6.git@<commit>'"
)

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
