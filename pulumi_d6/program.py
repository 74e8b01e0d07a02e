"""The root program: integrations declared in stack config, no Python to write.

Stack config (namespace = the project, ``d6-integrations``):

* ``integrations``: a list of ``{schoolId, apiTypeId, active?, deactivateOnDestroy?}``;
* ``activateAllAuthorised``: a list of API type ids; every school that has authorised one of
  them gets an active ``ClientIntegration``, so a scheduled ``pulumi up`` onboards newly
  authorised schools and drops revoked ones. An explicit ``integrations`` entry for the same
  school and API type wins (for example to keep one declared but inactive). Discovered entries
  are never deactivated because they vanished from a listing, unless
  ``deactivateUndiscovered: true``.
* ``exclusiveApiTypes``: API type ids this program is the only source of truth for: every
  other integration d6 lists for them (not declared, not discovered, not in
  ``exclusiveIgnore``, a list of ``"<schoolId>/<apiTypeId>"``) is declared ``active: false``
  and forget-only, so ``up`` deactivates the active ones within the budget and adopts the rest.

Stack outputs: ``managed`` (the ids) and ``activeCount``; no contact detail is exported.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from .declarations import Lookup, parse_program_config, plan, refuse_foreign_keys
from .lookup import get_client_integrations
from .resource import ClientIntegration


def main(lookup: Lookup | None = None) -> list[ClientIntegration]:
    """Declare the resources and export a summary (``managed``, ``activeCount``)."""
    project = pulumi.get_project()
    entries = plan(
        parse_program_config(_project_values(project), project),
        lookup or (lambda api_type_id: get_client_integrations(api_type_id=api_type_id)),
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
    pulumi.export("managed", [e.id for e in entries])
    pulumi.export(
        "activeCount",
        pulumi.Output.all(*[r.active for r in resources]).apply(
            lambda states: sum(map(bool, states))
        ),
    )
    return resources


def _project_values(project: str) -> dict[str, Any]:
    """Every ``<project>:*`` key of the stack config, so unknown ones are refused as in the
    stack-file tools. Values arrive as text: JSON where it parses, else the text itself."""
    names = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    refuse_foreign_keys(names, project)
    values: dict[str, Any] = {}
    for name in names:
        namespace, _, key = name.partition(":")
        raw = runtime_config.get_config(name) if namespace == project and key else None
        if raw is None:
            continue
        try:
            values[key] = json.loads(raw)
        except (TypeError, ValueError):
            values[key] = raw
    return values
