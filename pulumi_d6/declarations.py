"""The root program's declarations, parsed from stack config (no Pulumi imports).

``integrations`` entries, ``activateAllAuthorised`` API types and the plan that joins them with
d6's listing. The root program (``program.py``), ``pulumi-d6 init``, ``codegen --write`` and
``drift`` all read stack config through this one module, so they agree on what it means.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .codegen import resource_name
from .errors import SHOWN_CHARS, InvalidValueError, excerpt, shown
from .models import ClientIntegrationInfo, parse_flag, parse_id

Lookup = Callable[[int], list[ClientIntegrationInfo]]
_ENTRY_KEYS = {"schoolId", "apiTypeId", "active", "deactivateOnDestroy"}


class ProgramConfigError(InvalidValueError):
    """The stack config of the root program is invalid; the message names the entry."""


@dataclass(frozen=True)
class Entry:
    school_id: int
    api_type_id: int
    active: bool = True
    deactivate_on_destroy: bool = True

    @property
    def resource_name(self) -> str:
        """Stable Pulumi name, also what ``pulumi-d6 codegen`` writes."""
        return resource_name(self.school_id, self.api_type_id)


def parse_integrations(raw: Any) -> list[Entry]:
    """Validate ``integrations``; every error names the entry (``integrations[2].schoolId``)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ProgramConfigError(
            f"integrations must be a list of entries, got {type(raw).__name__}"
        )
    entries: list[Entry] = []
    seen: dict[tuple[int, int], int] = {}
    for index, item in enumerate(raw):
        where = f"integrations[{index}]"
        if not isinstance(item, Mapping):
            raise ProgramConfigError(
                f"{where} must be a mapping with schoolId and apiTypeId, got {shown(item)}"
            )
        unknown = set(item) - _ENTRY_KEYS
        if unknown:
            raise ProgramConfigError(
                f"{where} has unknown key(s) "
                f"{excerpt(', '.join(sorted(map(str, unknown))), SHOWN_CHARS)}; "
                f"allowed: {', '.join(sorted(_ENTRY_KEYS))}"
            )
        for required in ("schoolId", "apiTypeId"):
            if required not in item:
                raise ProgramConfigError(f"{where}.{required} is required")
        entry = Entry(
            school_id=parse_id(item["schoolId"], f"{where}.schoolId", ProgramConfigError),
            api_type_id=parse_id(item["apiTypeId"], f"{where}.apiTypeId", ProgramConfigError),
            active=parse_flag(item.get("active"), f"{where}.active", True, ProgramConfigError),
            deactivate_on_destroy=parse_flag(
                item.get("deactivateOnDestroy"),
                f"{where}.deactivateOnDestroy",
                True,
                ProgramConfigError,
            ),
        )
        key = (entry.school_id, entry.api_type_id)
        if key in seen:
            raise ProgramConfigError(
                f"{where} declares school {key[0]} / API type {key[1]} again "
                f"(first in integrations[{seen[key]}])"
            )
        seen[key] = index
        entries.append(entry)
    return entries


def parse_api_types(raw: Any) -> list[int]:
    """Validate ``activateAllAuthorised`` (a list of API type ids, no duplicates)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ProgramConfigError(
            f"activateAllAuthorised must be a list of API type ids, got {type(raw).__name__}"
        )
    types: list[int] = []
    for index, value in enumerate(raw):
        type_id = parse_id(value, f"activateAllAuthorised[{index}]", ProgramConfigError)
        if type_id in types:
            raise ProgramConfigError(f"activateAllAuthorised[{index}] repeats API type {type_id}")
        types.append(type_id)
    return types


def plan(
    declared: list[Entry],
    api_types: list[int],
    lookup: Lookup | None = None,
    *,
    deactivate_undiscovered: bool = False,
) -> list[Entry]:
    """Explicit entries first, then one active entry per authorised school of each API type.

    Discovered entries are forgotten, not deactivated, when they vanish from a later listing
    (``deactivate_on_destroy`` false): a listing that comes back short by mistake must not end
    anyone's service. A school that really revokes is dropped by refresh; the next good run
    adopts whatever a short listing made it forget. ``deactivate_undiscovered`` opts out.
    """
    entries = list(declared)
    keys = {(e.school_id, e.api_type_id) for e in entries}
    if api_types:
        if lookup is None:
            raise ValueError("plan() needs a lookup when activateAllAuthorised is set")
        for type_id in api_types:
            for info in sorted(lookup(type_id), key=lambda i: i.key):
                if info.api_type_id == type_id and info.key not in keys:
                    keys.add(info.key)
                    entries.append(
                        Entry(
                            info.school_id,
                            info.api_type_id,
                            deactivate_on_destroy=deactivate_undiscovered,
                        )
                    )
    return entries
