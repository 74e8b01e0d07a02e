"""One declared integration as a typed value, and the names the engine knows the resource by.

:class:`IntegrationSpec` is the one record of "a declared integration" wherever it comes from:
stack config (``declarations``), a program's inputs or the state the engine hands the provider
(``of``, ``from_state``: the same bounded parsers as ``check``, so a hostile id never reaches
d6), or a ``pulumi stack export`` (``drift``). No Pulumi imports, so the tools can use it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ResourceError
from .models import ClientIntegrationInfo, parse_flag, parse_id, parse_resource_id, resource_id

RESOURCE_MODULE = "d6"
RESOURCE_NAME = "ClientIntegration"
RESOURCE_TYPE = f"pulumi-python:dynamic/{RESOURCE_MODULE}:{RESOURCE_NAME}"
"""The type token Pulumi gives a dynamic resource declared with this module and name."""
ID_FIELDS = ("school_id", "api_type_id")
FLAG_DEFAULTS = {"active": True, "deactivate_on_destroy": True}
DESCRIPTIVE_FIELDS = tuple(
    name for name in ClientIntegrationInfo.model_fields if name not in (*ID_FIELDS, "active")
)


def resource_name(school_id: int, api_type_id: int) -> str:
    """The stable Pulumi name of one integration, whatever declared it (stack config, codegen,
    discovery), so moving an entry from one kind to another is an update, never a replace."""
    return f"school-{school_id}-api-{api_type_id}"


@dataclass(frozen=True)
class IntegrationSpec:
    """One integration as declared (stack config, inputs, a stack export) or as state recorded it.

    ``school_name`` is what the declaration knows of the school (a stack export's output), for
    reports only: it takes no part in equality.
    """

    school_id: int
    api_type_id: int
    active: bool = True
    deactivate_on_destroy: bool = True
    school_name: str | None = field(default=None, compare=False)

    @classmethod
    def of(cls, props: Mapping[str, Any]) -> IntegrationSpec:
        """From checked inputs (or outputs written by this provider)."""
        return cls(
            school_id=parse_id(props.get("school_id"), "school_id", ResourceError),
            api_type_id=parse_id(props.get("api_type_id"), "api_type_id", ResourceError),
            active=_flag(props, "active"),
            deactivate_on_destroy=_flag(props, "deactivate_on_destroy"),
        )

    @classmethod
    def from_state(cls, id_: str, props: Mapping[str, Any]) -> IntegrationSpec:
        """For read and delete: the id names the integration; the flags come from state."""
        school_id, api_type_id = parse_resource_id(id_, ResourceError)
        return cls(
            school_id,
            api_type_id,
            active=_flag(props, "active"),
            deactivate_on_destroy=_flag(props, "deactivate_on_destroy"),
        )

    @property
    def id(self) -> str:
        return resource_id(self.school_id, self.api_type_id)

    @property
    def key(self) -> tuple[int, int]:
        return (self.school_id, self.api_type_id)

    @property
    def resource_name(self) -> str:
        return resource_name(self.school_id, self.api_type_id)

    def inputs(self, *, active: bool | None = None) -> dict[str, Any]:
        return {
            "school_id": self.school_id,
            "api_type_id": self.api_type_id,
            "active": self.active if active is None else active,
            "deactivate_on_destroy": self.deactivate_on_destroy,
        }

    def outputs(
        self,
        *,
        live_active: bool,
        info: ClientIntegrationInfo | None,
        previous: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Every input with ``active`` live, plus d6's descriptive fields (kept from before
        when d6 did not send them this time)."""
        outs = self.inputs(active=live_active)
        for name in DESCRIPTIVE_FIELDS:
            if info is not None:
                outs[name] = getattr(info, name)
            else:
                old = (previous or {}).get(name)
                outs[name] = old if isinstance(old, str) else ""
        return outs


def _flag(props: Mapping[str, Any], name: str) -> bool:
    """A flag from state; a value this provider would never have written counts as the default."""
    default = FLAG_DEFAULTS[name]
    try:
        return parse_flag(props.get(name), name, default, ResourceError)
    except ResourceError:
        return default
