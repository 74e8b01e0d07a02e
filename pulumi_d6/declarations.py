"""The root program's stack config: one parser and one rule set (no Pulumi imports).

The root program (``program.py``), ``codegen --write`` (``stackfile``), ``drift`` and ``init``
read the project's keys through :func:`parse_program_config` (a whole stack file's ``config:``
through :func:`from_stack_config`), so an unknown key or a repeated entry is refused the same
way everywhere, naming the key and the entry. A new key is one row in ``_KEYS`` and one field
of :class:`ProgramConfig`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any

from .errors import SHOWN_CHARS, InvalidValueError, excerpt
from .integration import IntegrationSpec
from .models import ClientIntegrationInfo, described, parse_flag, parse_id, parse_resource_id

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
    exclusive_api_types: tuple[int, ...] = ()
    exclusive_ignore: tuple[tuple[int, int], ...] = ()

    def is_exclusive(self, school_id: int, api_type_id: int) -> bool:
        """Whether exclusive mode manages this integration when nothing else declares it."""
        return (
            api_type_id in self.exclusive_api_types
            and (school_id, api_type_id) not in self.exclusive_ignore
        )


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


def parse_resource_ids(raw: Any, key: str = "exclusiveIgnore") -> list[tuple[int, int]]:
    """Validate a list of resource ids (``"1000/8"``, as ``exclusiveIgnore``): no repeats."""
    keys: list[tuple[int, int]] = []
    for index, value in enumerate(_listed(raw, key, "resource ids ('<schoolId>/<apiTypeId>')")):
        where = f"{key}[{index}]"
        try:
            found = parse_resource_id(value, ProgramConfigError)
        except ProgramConfigError as exc:
            raise ProgramConfigError(f"{where}: {exc}") from None
        if found in keys:
            raise ProgramConfigError(
                f"{where} repeats {found[0]}/{found[1]} (first in {key}[{keys.index(found)}])"
            )
        keys.append(found)
    return keys


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
    "exclusiveApiTypes": (
        "exclusive_api_types",
        lambda raw, key: tuple(parse_api_types(raw, key)),
    ),
    "exclusiveIgnore": ("exclusive_ignore", lambda raw, key: tuple(parse_resource_ids(raw, key))),
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
    config = ProgramConfig(**fields)
    for index, (school_id, type_id) in enumerate(config.exclusive_ignore):
        if type_id not in config.exclusive_api_types:
            # A swapped id ("8/1000") would otherwise protect nobody, silently.
            raise ProgramConfigError(
                f"{prefix}exclusiveIgnore[{index}] is {school_id}/{type_id}, but API type "
                f"{type_id} is not in {prefix}exclusiveApiTypes; ids are "
                "'<schoolId>/<apiTypeId>' (remove the entry when exclusive mode is off)"
            )
    return config


SETTINGS_NAMESPACE = "d6"
"""The provider's own settings (``d6:username``, ...), never the root program's keys."""


def refuse_foreign_keys(names: Iterable[str], project: str) -> None:
    """A root program key under another project's namespace (``d6-integrations:integrations``
    pasted into a stack of project ``my-d6``) would be ignored by Pulumi, silently turning
    nothing on: refuse it, naming the project in force and the rename that fixes it.
    Other namespaces' keys (``aws:region``) are not ours and stay allowed."""
    for name in sorted(map(str, names)):
        namespace, sep, key = name.rpartition(":")
        if sep and key in _KEYS and namespace not in (project, SETTINGS_NAMESPACE):
            raise ProgramConfigError(
                f"{excerpt(name, SHOWN_CHARS)} is not read: the project is {project}, whose "
                f"keys are {project}:*; rename it to {project}:{key}"
            )


def looks_like_program_key(key: str) -> bool:
    """A root program key, or a near miss of one (``activateAllAuthorized``)."""
    return key in _KEYS or bool(get_close_matches(key, KEYS, n=1, cutoff=0.8))


def program_namespaces(names: Iterable[str]) -> list[str]:
    """The namespaces other than ``d6`` holding root-program-looking keys, sorted: a stack
    file's own word for its project when no Pulumi.yaml is at hand."""
    found = set()
    for name in map(str, names):
        namespace, sep, key = name.rpartition(":")
        if sep and namespace != SETTINGS_NAMESPACE and looks_like_program_key(key):
            found.add(namespace)
    return sorted(found)


def project_values(config: Mapping[str, Any], project: str) -> dict[str, Any]:
    """The keys of ``project`` in a stack file's ``config:`` mapping, without the namespace.

    A key with no namespace belongs to the project, as Pulumi reads it. A root program key
    under another project's namespace is refused (:func:`refuse_foreign_keys`).
    """
    refuse_foreign_keys(config, project)
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
    """Explicit entries first, then the discovered ones, then those exclusive mode manages.

    Discovered entries are forgotten, not deactivated, when they vanish from a later listing
    (``deactivate_on_destroy`` false): a listing that comes back short by mistake must not end
    anyone's service. A school that really revokes is dropped by refresh; the next good run
    adopts whatever a short listing made it forget. ``deactivateUndiscovered`` opts out.

    Exclusive entries (:func:`exclusive_entries`) follow the same rule: they are
    ``active: false`` while listed and only forgotten when a listing misses them.
    """
    lookup = _once_per_type(lookup)
    entries = declared_and_discovered(program, lookup)
    return entries + exclusive_entries(program, lookup, {e.key for e in entries})


def declared_and_discovered(
    program: ProgramConfig, lookup: Lookup | None = None
) -> list[IntegrationSpec]:
    """``integrations``, then one active entry per authorised school of each
    ``activateAllAuthorised`` type that no explicit entry names (what the user asked for)."""
    entries = list(program.integrations)
    keys = {e.key for e in entries}
    for info in _listed_for(program.activate_all_authorised, lookup, "activateAllAuthorised"):
        if info.key not in keys:
            keys.add(info.key)
            entries.append(
                IntegrationSpec(
                    info.school_id,
                    info.api_type_id,
                    deactivate_on_destroy=program.deactivate_undiscovered,
                )
            )
    return entries


def exclusive_entries(
    program: ProgramConfig, lookup: Lookup | None, taken: set[tuple[int, int]]
) -> list[IntegrationSpec]:
    """``active: false, deactivate_on_destroy: false`` for every listed integration of an
    ``exclusiveApiTypes`` type that is not in ``taken`` (declared or discovered) nor ignored.

    The provider deactivates an active one (a unit of the budget) and adopts an inactive one
    without a change request; one that vanishes from a listing is only forgotten.
    """
    entries = []
    taken = set(taken)
    for info in _listed_for(program.exclusive_api_types, lookup, "exclusiveApiTypes"):
        if info.key not in taken and program.is_exclusive(*info.key):
            taken.add(info.key)  # one resource per integration, even one listed twice
            entries.append(
                IntegrationSpec(
                    info.school_id, info.api_type_id, active=False, deactivate_on_destroy=False
                )
            )
    return entries


def _listed_for(
    types: tuple[int, ...], lookup: Lookup | None, key: str
) -> list[ClientIntegrationInfo]:
    """What ``lookup`` lists for each of ``types``, in a stable order (by school per type)."""
    if not types:
        return []
    if lookup is None:
        raise ValueError(f"plan() needs a lookup when {key} is set")
    found: list[ClientIntegrationInfo] = []
    for type_id in types:
        listed = [i for i in lookup(type_id) if i.api_type_id == type_id]
        found += sorted(listed, key=lambda i: i.key)
    return found


def _once_per_type(lookup: Lookup | None) -> Lookup | None:
    """A type both discovered and exclusive is listed once per plan."""
    if lookup is None:
        return None
    cache: dict[int, list[ClientIntegrationInfo]] = {}

    def cached(type_id: int) -> list[ClientIntegrationInfo]:
        if type_id not in cache:
            cache[type_id] = lookup(type_id)
        return cache[type_id]

    return cached
