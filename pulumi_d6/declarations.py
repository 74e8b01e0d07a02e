"""The root program's stack config: one parser and one rule set (no Pulumi imports).

The root program (``program.py``), ``codegen --write`` (``stackfile``), ``drift`` and ``init``
read the project's keys through :func:`parse_program_config` (a whole stack file's ``config:``
through :func:`from_stack_config`), so an unknown key or a repeated entry is refused the same
way everywhere, naming the key and the entry. A new key is one row in ``_KEYS`` and one field
of :class:`ProgramConfig`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import SHOWN_CHARS, InvalidValueError, excerpt
from .integration import IntegrationSpec
from .models import ClientIntegrationInfo, described, parse_flag, parse_id

PROJECT = "d6-integrations"
"""The root program's project name, so the namespace of its stack config keys."""

Lookup = Callable[[int], list[ClientIntegrationInfo]]
ENTRY_KEYS = ("schoolId", "apiTypeId", "active", "deactivateOnDestroy")


class ProgramConfigError(InvalidValueError):
    """The stack config of the root program is invalid; the message names the key and entry."""


@dataclass(frozen=True)
class ProgramConfig:
    """What the project's stack config keys declare, validated."""

    integrations: tuple[IntegrationSpec, ...] = ()
    activate_all_authorised: tuple[int, ...] = ()
    deactivate_undiscovered: bool = False


def _listed(raw: Any, key: str, what: str) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ProgramConfigError(f"{key} must be a list of {what}, got {described(raw)}")
    return raw


def parse_integrations(raw: Any, key: str = "integrations") -> list[IntegrationSpec]:
    """Validate ``integrations``; every error names the entry (``integrations[2].schoolId``)."""
    entries: list[IntegrationSpec] = []
    seen: dict[tuple[int, int], int] = {}
    for index, item in enumerate(_listed(raw, key, "entries")):
        where = f"{key}[{index}]"
        if not isinstance(item, Mapping):
            raise ProgramConfigError(
                f"{where} must be a mapping with schoolId and apiTypeId, got {described(item)}"
            )
        unknown = set(item) - set(ENTRY_KEYS)
        if unknown:
            raise ProgramConfigError(
                f"{where} has unknown key(s) "
                f"{excerpt(', '.join(sorted(map(str, unknown))), SHOWN_CHARS)}; "
                f"allowed: {', '.join(sorted(ENTRY_KEYS))}"
            )
        for required in ("schoolId", "apiTypeId"):
            if required not in item:
                raise ProgramConfigError(f"{where}.{required} is required")
        entry = IntegrationSpec(
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
        if entry.key in seen:
            raise ProgramConfigError(
                f"{where} declares school {entry.school_id} / API type {entry.api_type_id} "
                f"again (first in {key}[{seen[entry.key]}])"
            )
        seen[entry.key] = index
        entries.append(entry)
    return entries


def parse_api_types(raw: Any, key: str = "activateAllAuthorised") -> list[int]:
    """Validate a list of API type ids (``activateAllAuthorised``): no repeats."""
    types: list[int] = []
    for index, value in enumerate(_listed(raw, key, "API type ids")):
        type_id = parse_id(value, f"{key}[{index}]", ProgramConfigError)
        if type_id in types:
            raise ProgramConfigError(f"{key}[{index}] repeats API type {type_id}")
        types.append(type_id)
    return types


def _flag(raw: Any, key: str) -> bool:
    return parse_flag(raw, key, False, ProgramConfigError)


# key in stack config -> (ProgramConfig field, parser of (raw value, name for messages))
_KEYS: dict[str, tuple[str, Callable[[Any, str], Any]]] = {
    "integrations": ("integrations", lambda raw, key: tuple(parse_integrations(raw, key))),
    "activateAllAuthorised": (
        "activate_all_authorised",
        lambda raw, key: tuple(parse_api_types(raw, key)),
    ),
    "deactivateUndiscovered": ("deactivate_undiscovered", _flag),
}
KEYS = tuple(_KEYS)
"""The root program's stack config keys (without the project namespace)."""


def parse_program_config(values: Mapping[str, Any], namespace: str = "") -> ProgramConfig:
    """The project's keys (``integrations``, ..., without the namespace) checked and typed.

    Messages name keys as ``<namespace>:<key>`` when ``namespace`` is given, as the user wrote
    them in the stack file. Absent keys (or None) take their defaults.
    """
    prefix = f"{namespace}:" if namespace else ""
    unknown = sorted(set(values) - set(_KEYS))
    if unknown:
        raise ProgramConfigError(
            f"{prefix}{excerpt(unknown[0], SHOWN_CHARS)} is not a setting of the root program; "
            f"known: {', '.join(prefix + k for k in KEYS)}"
        )
    fields = {
        field: parse(values[key], prefix + key)
        for key, (field, parse) in _KEYS.items()
        if values.get(key) is not None
    }
    return ProgramConfig(**fields)


def project_values(config: Mapping[str, Any], project: str) -> dict[str, Any]:
    """The keys of ``project`` in a stack file's ``config:`` mapping, without the namespace.

    A key with no namespace belongs to the project, as Pulumi reads it.
    """
    values: dict[str, Any] = {}
    for name, value in config.items():
        namespace, sep, key = str(name).rpartition(":")
        if not sep or namespace == project:
            values[key] = value
    return values


def from_stack_config(config: Mapping[str, Any], project: str, where: str = "") -> ProgramConfig:
    """The root program's declarations in a stack file's ``config:`` mapping; ``where`` (the
    file) starts every message."""
    try:
        return parse_program_config(project_values(config, project), project)
    except ProgramConfigError as exc:
        if not where:
            raise
        message = f"{where}: {exc}"
    raise ProgramConfigError(message)


def plan(
    program: ProgramConfig,
    lookup: Lookup | None = None,
) -> list[IntegrationSpec]:
    """Explicit entries first, then one active entry per authorised school of each API type.

    Discovered entries are forgotten, not deactivated, when they vanish from a later listing
    (``deactivate_on_destroy`` false): a listing that comes back short by mistake must not end
    anyone's service. A school that really revokes is dropped by refresh; the next good run
    adopts whatever a short listing made it forget. ``deactivateUndiscovered`` opts out.
    """
    entries = list(program.integrations)
    keys = {e.key for e in entries}
    if program.activate_all_authorised:
        if lookup is None:
            raise ValueError("plan() needs a lookup when activateAllAuthorised is set")
        for type_id in program.activate_all_authorised:
            for info in sorted(lookup(type_id), key=lambda i: i.key):
                if info.api_type_id == type_id and info.key not in keys:
                    keys.add(info.key)
                    entries.append(
                        IntegrationSpec(
                            info.school_id,
                            info.api_type_id,
                            deactivate_on_destroy=program.deactivate_undiscovered,
                        )
                    )
    return entries
