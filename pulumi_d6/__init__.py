"""pulumi-d6: manage d6+ SAMS client integrations with Pulumi.

Public names (DESIGN.md): :class:`ClientIntegration`, :class:`ClientIntegrationProvider`,
:func:`get_client_integrations`, :class:`D6Client`, :mod:`pulumi_d6.errors`.
"""

from . import errors
from ._version import __version__
from .client import D6Client
from .lookup import get_client_integrations
from .models import ClientIntegrationInfo, PageMeta, StateChange
from .provider import ClientIntegrationProvider
from .resource import ClientIntegration
from .settings import D6Settings, resolve_settings

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
