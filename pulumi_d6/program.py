"""The root program: integrations declared in stack config, no Python to write.

Stack config (namespace = the project, ``d6-integrations``):

* ``integrations``: a list of ``{schoolId, apiTypeId, active?, deactivateOnDestroy?}``;
* ``activateAllAuthorised``: a list of API type ids; every school that has authorised one of
  them gets an active ``ClientIntegration``, so a scheduled ``pulumi up`` onboards newly
  authorised schools and drops revoked ones. An explicit ``integrations`` entry for the same
  school and API type wins (for example to keep one declared but inactive). Discovered entries
  are never deactivated because they vanished from a listing, unless
  ``deactivateUndiscovered: true``.

Stack outputs: ``managed`` (the ids) and ``activeCount``; no contact detail is exported.
"""

from __future__ import annotations

import pulumi

from .declarations import (
    Entry,
    Lookup,
    ProgramConfigError,
    parse_api_types,
    parse_integrations,
    plan,
)
from .lookup import get_client_integrations
from .models import parse_flag, resource_id
from .resource import ClientIntegration

__all__ = ["Entry", "ProgramConfigError", "main", "parse_api_types", "parse_integrations", "plan"]


def main(lookup: Lookup | None = None) -> list[ClientIntegration]:
    """Declare the resources and export a summary (``managed``, ``activeCount``)."""
    config = pulumi.Config()
    entries = plan(
        parse_integrations(config.get_object("integrations")),
        parse_api_types(config.get_object("activateAllAuthorised")),
        lookup or (lambda api_type_id: get_client_integrations(api_type_id=api_type_id)),
        deactivate_undiscovered=parse_flag(
            config.get("deactivateUndiscovered"),
            "deactivateUndiscovered",
            False,
            ProgramConfigError,
        ),
    )
    resources = [
        ClientIntegration(
            e.resource_name,
            school_id=e.school_id,
            api_type_id=e.api_type_id,
            active=e.active,
            deactivate_on_destroy=e.deactivate_on_destroy,
        )
        for e in entries
    ]
    pulumi.export("managed", [resource_id(e.school_id, e.api_type_id) for e in entries])
    pulumi.export(
        "activeCount",
        pulumi.Output.all(*[r.active for r in resources]).apply(
            lambda states: sum(map(bool, states))
        ),
    )
    return resources
