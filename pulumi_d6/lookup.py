"""``get_client_integrations``: the authorised integrations, for use inside a Pulumi program.

Settings come from the program's stack config (``d6:*``) and then the ``D6_*`` environment, the
same keys the provider reads, so one configuration serves both.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pulumi

from .client import D6Client
from .models import ClientIntegrationInfo
from .settings import D6Settings, resolve_settings, stack_config_of

_stand_in: list[ClientIntegrationInfo] | None = None
_stand_in_lock = threading.Lock()


@contextmanager
def listing_stand_in(listing: list[ClientIntegrationInfo] | None) -> Iterator[None]:
    """While open, :func:`get_client_integrations` answers from ``listing`` instead of d6
    (``pulumi_d6.testing`` runs programs so, with no network); ``None`` changes nothing."""
    global _stand_in
    with _stand_in_lock:
        before, _stand_in = _stand_in, listing
    try:
        yield
    finally:
        with _stand_in_lock:
            _stand_in = before


def settings_from_pulumi_config() -> D6Settings:
    """Settings from ``pulumi.Config("d6")``, then ``D6_*`` variables, then defaults."""
    config = pulumi.Config("d6")
    values = stack_config_of(lambda key: config.get(key.removeprefix("d6:")))
    return resolve_settings(config=values, env=os.environ)


def get_client_integrations(
    school_id: int | None = None,
    api_type_id: int | None = None,
    *,
    client: D6Client | None = None,
) -> list[ClientIntegrationInfo]:
    """Every integration schools have authorised you for, all pages followed.

    Filter by ``school_id`` and/or ``api_type_id``. Each record has ``school_id``,
    ``api_type_id``, ``active`` (activated by you) and d6's descriptive fields. This calls the
    d6 API when the program runs (in preview too), like a data source.
    """
    fake = _stand_in
    if fake is not None and client is None:
        return [
            i
            for i in fake
            if school_id in (None, i.school_id) and api_type_id in (None, i.api_type_id)
        ]
    if client is not None:
        return client.list_integrations(school_id, api_type_id)
    with D6Client(settings_from_pulumi_config()) as own:
        return own.list_integrations(school_id, api_type_id)
