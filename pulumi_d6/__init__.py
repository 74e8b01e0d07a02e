"""pulumi-d6: manage d6+ SAMS client integrations with Pulumi.

Public names: :class:`ClientIntegration`, :class:`ClientIntegrationProvider`,
:func:`get_client_integrations`, :class:`D6Client`, :mod:`pulumi_d6.errors`. The three that
need the Pulumi SDK load it on first use, so the client, the CLI and the emulator start fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from . import errors
from ._version import __version__
from .client import D6Client
from .models import ClientIntegrationInfo, PageMeta, StateChange
from .settings import D6Settings, resolve_settings

if TYPE_CHECKING:
    from .lookup import get_client_integrations
    from .provider import ClientIntegrationProvider
    from .resource import ClientIntegration

_NEEDS_PULUMI = {
    "ClientIntegration": ".resource",
    "ClientIntegrationProvider": ".provider",
    "get_client_integrations": ".lookup",
}


def __getattr__(name: str) -> Any:
    if name in _NEEDS_PULUMI:
        return getattr(import_module(_NEEDS_PULUMI[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ClientIntegration",
    "ClientIntegrationInfo",
    "ClientIntegrationProvider",
    "D6Client",
    "D6Settings",
    "PageMeta",
    "StateChange",
    "__version__",
    "errors",
    "get_client_integrations",
    "resolve_settings",
]
