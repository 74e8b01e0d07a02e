"""Where d6 and the code part ways: what is declared against one full listing of d6.

Pulumi reports only on what it manages; the questions integrators ask are about the rest. Four
categories, which never overlap:

* ``onboarding``: authorised in d6 and inactive, not declared (the onboarding queue);
* ``unmanaged_active``: active in d6, not declared (someone clicked in d6+, or ran a script);
* ``revoked``: declared, no longer authorised by the school;
* ``mismatched``: declared and authorised, but the declared ``active`` differs from d6's.

``in_sync`` counts the rest of what is declared. The declared side comes from a root-program
stack file or from ``pulumi stack export`` of any program. No Pulumi imports.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .declarations import ProgramConfigError, parse_api_types, parse_integrations, plan
from .errors import InvalidValueError, shown
from .models import ClientIntegrationInfo, parse_resource_id
from .stackfile import StackFileError, read_text

RESOURCE_TYPE = "pulumi-python:dynamic/d6:ClientIntegration"
# Pulumi's public marker of a secret value in state (not a secret itself).
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # noqa: S105
CATEGORIES = ("onboarding", "unmanaged_active", "revoked", "mismatched")
TITLES = {
    "onboarding": "Onboarding: authorised in d6, inactive, not declared",
    "unmanaged_active": "Unmanaged: active in d6, not declared",
    "revoked": "Revoked: declared, no longer authorised by the school",
    "mismatched": "Mismatched: declared active differs from d6",
}


@dataclass(frozen=True)
class Declared:
    school_id: int
    api_type_id: int
    active: bool
    school_name: str | None = None

    @property
    def key(self) -> tuple[int, int]:
        return (self.school_id, self.api_type_id)


@dataclass
class DriftReport:
    in_sync: int = 0
    onboarding: list[dict[str, Any]] = field(default_factory=list)
    unmanaged_active: list[dict[str, Any]] = field(default_factory=list)
    revoked: list[dict[str, Any]] = field(default_factory=list)
    mismatched: list[dict[str, Any]] = field(default_factory=list)

    @property
    def out_of_sync(self) -> int:
        return sum(len(self.category(name)) for name in CATEGORIES)

    def category(self, name: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = getattr(self, name)
        return items

    def as_json(self) -> dict[str, Any]:
        return {"in_sync": self.in_sync, **{name: self.category(name) for name in CATEGORIES}}

    def summary(self) -> str:
        if not self.out_of_sync:
            return f"d6 and the code agree: {self.in_sync} declared integration(s) in sync."
        parts = [f"{len(self.category(n))} {n.replace('_', ' ')}" for n in CATEGORIES]
        return f"{self.out_of_sync} out of sync ({', '.join(parts)}); {self.in_sync} in sync."


def compare(declared: Iterable[Declared], live: Iterable[ClientIntegrationInfo]) -> DriftReport:
    """Sort every integration into exactly one category."""
    wanted: dict[tuple[int, int], Declared] = {}
    for item in declared:
        wanted.setdefault(item.key, item)
    listed = {info.key: info for info in live}
    report = DriftReport()
    for key in sorted(set(wanted) | set(listed)):
        want, info = wanted.get(key), listed.get(key)
        name = info.school_name if info is not None and info.school_name else None
        if name is None and want is not None:
            name = want.school_name or None
        row: dict[str, Any] = {"school_id": key[0], "api_type_id": key[1], "school_name": name}
        if want is None and info is not None:
            (report.unmanaged_active if info.active else report.onboarding).append(row)
        elif want is not None and info is None:
            report.revoked.append(row)
        elif want is not None and info is not None and want.active != info.active:
            report.mismatched.append(
                {**row, "declared_active": want.active, "live_active": info.active}
            )
        else:
            report.in_sync += 1
    return report


# ------------------------------------------------------------ declared side


def from_stack_config(
    config: Mapping[str, Any],
    project: str,
    live: list[ClientIntegrationInfo],
    where: str = "the stack file",
) -> list[Declared]:
    """What a root-program stack file declares, ``activateAllAuthorised`` resolved on ``live``."""
    try:
        entries = plan(
            parse_integrations(config.get(f"{project}:integrations")),
            parse_api_types(config.get(f"{project}:activateAllAuthorised")),
            lambda api_type_id: [i for i in live if i.api_type_id == api_type_id],
        )
    except ProgramConfigError as exc:
        message = f"{where}: {project}:{exc}"
    else:
        return [Declared(e.school_id, e.api_type_id, e.active) for e in entries]
    raise StackFileError(message)


def read_stack_export(path: Path | None, text: str | None = None) -> Any:
    """The JSON of ``pulumi stack export`` from ``path``, or ``text`` (stdin)."""
    where = "stdin" if path is None else str(path)
    if text is None and path is not None:
        text = read_text(path)
    try:
        return json.loads(text or "")
    except ValueError:
        message = f"{where}: not JSON (expected the output of `pulumi stack export`)"
    raise StackFileError(message)


def from_stack_export(export: Any, where: str = "the stack export") -> list[Declared]:
    """Every ``ClientIntegration`` in a ``pulumi stack export``: its id, ``inputs.active`` and
    name. Other resource types, providers, the stack itself and secret envelopes are fine."""
    deployment = export.get("deployment") if isinstance(export, Mapping) else None
    resources = deployment.get("resources") if isinstance(deployment, Mapping) else None
    if not isinstance(resources, list):
        raise StackFileError(
            f"{where}: not a stack export (expected deployment.resources, as `pulumi stack "
            "export` writes)"
        )
    found: list[Declared] = []
    for index, resource in enumerate(resources):
        if not isinstance(resource, Mapping) or resource.get("type") != RESOURCE_TYPE:
            continue
        if resource.get("delete") or resource.get("pendingReplacement"):
            continue  # the old half of a replacement, about to go
        try:
            school_id, api_type_id = parse_resource_id(str(resource.get("id", "")))
        except InvalidValueError as exc:
            raise StackFileError(f"{where}: resources[{index}]: {exc}") from None
        inputs = _plain(resource.get("inputs")) or {}
        outputs = _plain(resource.get("outputs")) or {}
        active = _plain(inputs.get("active")) if isinstance(inputs, Mapping) else None
        name = _plain(outputs.get("school_name")) if isinstance(outputs, Mapping) else None
        found.append(
            Declared(
                school_id,
                api_type_id,
                active if isinstance(active, bool) else True,
                name if isinstance(name, str) and name else None,
            )
        )
    return found


def _plain(value: Any) -> Any:
    """A value with Pulumi's secret envelope opened when it holds plaintext (``--show-secrets``);
    an encrypted one is unknown (None)."""
    if isinstance(value, Mapping) and value.get(SECRET_SIG) == "1b47061264138c4ac30d75fd1eb44270":
        plaintext = value.get("plaintext")
        if isinstance(plaintext, str):
            try:
                return json.loads(plaintext)
            except ValueError:
                return None
        return None
    return value


# ---------------------------------------------------------------- rendering


def to_markdown(report: DriftReport) -> str:
    """For ``$GITHUB_STEP_SUMMARY``: a summary line, then one table per non-empty category."""
    lines = ["## d6 drift", "", report.summary()]
    for name in CATEGORIES:
        rows = report.category(name)
        if not rows:
            continue
        mismatched = name == "mismatched"
        lines += ["", f"### {TITLES[name]} ({len(rows)})", ""]
        header = "| school | name | API type |" + (" declared | d6 |" if mismatched else "")
        lines += [header, "|---:|---|---:|" + ("---|---|" if mismatched else "")]
        for row in rows:
            cells = [str(row["school_id"]), _md(row["school_name"]), str(row["api_type_id"])]
            if mismatched:
                cells += [_active(row["declared_active"]), _active(row["live_active"])]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _active(value: bool) -> str:
    return "active" if value else "inactive"


def _md(name: str | None) -> str:
    if not name:
        return "(unknown)"
    return shown(name, 60).strip("'").replace("|", "\\|")
