"""Where d6 and the code part ways: what is declared against one full listing of d6.

Pulumi reports only on what it manages; the questions integrators ask are about the rest. Five
categories, which never overlap:

* ``onboarding``: authorised in d6 and inactive, and either not declared or discovered by
  ``activateAllAuthorised`` (root-program stack file only): the onboarding queue, which the next
  ``up`` activates for the discovered ones (explicit ``integrations`` entries stay ``mismatched``);
* ``unmanaged_active``: active in d6, not declared (someone clicked in d6+, or ran a script);
* ``exclusive_deactivate``: the same, but of an ``exclusiveApiTypes`` type and not in
  ``exclusiveIgnore`` (root-program stack file only): the next ``up`` deactivates it, so it is
  reported, not failed on by default;
* ``revoked``: declared, no longer authorised by the school;
* ``mismatched``: declared and authorised, but the declared ``active`` differs from d6's.

``in_sync`` counts the rest of what is declared. The declared side comes from a root-program
stack file or from ``pulumi stack export`` of any program. No Pulumi imports.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .declarations import ProgramConfig, declared_and_discovered
from .declarations import from_stack_config as declared_in
from .errors import InvalidValueError, excerpt, printable, shown
from .integration import RESOURCE_TYPE, IntegrationSpec
from .models import ClientIntegrationInfo, parse_resource_id
from .stackfile import StackFileError, read_text

# Pulumi's public marker of a secret value in state (not a secret itself).
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # noqa: S105
CATEGORIES = ("onboarding", "unmanaged_active", "exclusive_deactivate", "revoked", "mismatched")
BY_NEED = ("unmanaged_active", "revoked", "mismatched", "exclusive_deactivate", "onboarding")
"""The order the table and the markdown show sections in: what needs someone to act first; the
onboarding queue, which can run to thousands of rows and needs nothing, last."""
FOLDED = ("onboarding",)
"""Sections the markdown folds into a ``<details>`` block (expanded on a click)."""
FAIL_ON_DEFAULT = ("unmanaged_active", "revoked", "mismatched")
"""What needs someone to act; the onboarding queue is business as usual, and exclusive mode's
deactivations are the next ``up``'s job (both reported, not failed on unless asked)."""
TITLES = {
    "onboarding": (
        "Onboarding: authorised in d6, inactive; waiting to be declared, or found by "
        "activateAllAuthorised (those the next up activates)"
    ),
    "unmanaged_active": "Unmanaged: active in d6, not declared",
    "exclusive_deactivate": (
        "Exclusive: active in d6, not declared, will be deactivated by the next up"
    ),
    "revoked": "Revoked: declared, no longer authorised by the school",
    "mismatched": "Mismatched: declared active differs from d6",
}
UNKNOWN_NAME = "(unknown)"


@dataclass(frozen=True)
class DriftRow:
    """One integration out of sync; the two states only for ``mismatched``."""

    school_id: int
    api_type_id: int
    school_name: str | None
    declared_active: bool | None = None
    live_active: bool | None = None

    def as_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "school_id": self.school_id,
            "api_type_id": self.api_type_id,
            "school_name": self.school_name,
        }
        if self.declared_active is not None and self.live_active is not None:
            row.update(declared_active=self.declared_active, live_active=self.live_active)
        return row


@dataclass
class DriftReport:
    in_sync: int = 0
    onboarding: list[DriftRow] = field(default_factory=list)
    unmanaged_active: list[DriftRow] = field(default_factory=list)
    exclusive_deactivate: list[DriftRow] = field(default_factory=list)
    revoked: list[DriftRow] = field(default_factory=list)
    mismatched: list[DriftRow] = field(default_factory=list)

    @property
    def out_of_sync(self) -> int:
        return self.failing(CATEGORIES)

    def category(self, name: str) -> list[DriftRow]:
        rows: list[DriftRow] = getattr(self, name)
        return rows

    def failing(self, categories: Iterable[str] = FAIL_ON_DEFAULT) -> int:
        """How many rows are in ``categories`` (what ``--exit-code`` fails on)."""
        return sum(len(self.category(name)) for name in categories)

    def summary(self) -> str:
        if not self.out_of_sync:
            return f"d6 and the code agree: {self.in_sync} declared integration(s) in sync."
        parts = [
            f"{len(self.category(n))} {_SHORT.get(n, n.replace('_', ' '))}"
            for n in CATEGORIES
            if n != "exclusive_deactivate" or self.exclusive_deactivate
        ]
        return f"{self.out_of_sync} out of sync ({', '.join(parts)}); {self.in_sync} in sync."


def parse_fail_on(text: str) -> tuple[str, ...]:
    """``--fail-on``: category names, comma-separated, or ``all``."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    if names == ["all"]:
        return CATEGORIES
    unknown = [name for name in names if name not in CATEGORIES]
    if unknown or not names:
        raise InvalidValueError(
            f"--fail-on {shown(text)}: expected categories, comma-separated, from "
            f"{', '.join(CATEGORIES)}; or all"
        )
    return tuple(dict.fromkeys(names))


def compare(
    declared: Iterable[IntegrationSpec],
    live: Iterable[ClientIntegrationInfo],
    program: ProgramConfig | None = None,
) -> DriftReport:
    """Sort every integration into exactly one category; ``program`` (a root-program stack
    file's) tells which undeclared active ones exclusive mode will deactivate, and which
    declared ones were discovered by ``activateAllAuthorised`` rather than written down."""
    wanted: dict[tuple[int, int], IntegrationSpec] = {}
    for item in declared:
        wanted.setdefault(item.key, item)
    listed = {info.key: info for info in live}
    explicit = {item.key for item in program.integrations} if program is not None else set(wanted)
    report = DriftReport()
    for key in sorted(set(wanted) | set(listed)):
        want, info = wanted.get(key), listed.get(key)
        name = info.school_name if info is not None and info.school_name else None
        if name is None and want is not None:
            name = want.school_name or None
        row = DriftRow(key[0], key[1], name)
        if want is None and info is not None:
            if not info.active:
                report.onboarding.append(row)
            elif program is not None and program.is_exclusive(*key):
                report.exclusive_deactivate.append(row)
            else:
                report.unmanaged_active.append(row)
        elif want is not None and info is None:
            report.revoked.append(row)
        elif want is not None and info is not None and key not in explicit and not info.active:
            report.onboarding.append(row)  # discovered, waiting for the next up to activate it
        elif want is not None and info is not None and want.active != info.active:
            report.mismatched.append(
                DriftRow(key[0], key[1], name, declared_active=want.active, live_active=info.active)
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
) -> tuple[list[IntegrationSpec], ProgramConfig]:
    """What a root-program stack file declares (``activateAllAuthorised`` resolved on
    ``live``), and its config, so that :func:`compare` knows exclusive mode. Exclusive mode's
    own entries are not "declared": they are what ``exclusive_deactivate`` reports."""
    program = declared_in(config, project, where)
    # plan() keeps each API type's own rows of a lookup's answer: the whole listing will do.
    entries = declared_and_discovered(program, lambda _api_type_id: live)
    return entries, program


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


def from_stack_export(export: Any, where: str = "the stack export") -> list[IntegrationSpec]:
    """Every ``ClientIntegration`` in a ``pulumi stack export``: its id, ``inputs.active`` and
    name. Other resource types, providers, the stack itself and secret envelopes are fine."""
    deployment = export.get("deployment") if isinstance(export, Mapping) else None
    resources = deployment.get("resources") if isinstance(deployment, Mapping) else None
    if not isinstance(resources, list):
        raise StackFileError(
            f"{where}: not a stack export (expected deployment.resources, as `pulumi stack "
            "export` writes)"
        )
    found: list[IntegrationSpec] = []
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
            IntegrationSpec(
                school_id,
                api_type_id,
                active if isinstance(active, bool) else True,
                school_name=name if isinstance(name, str) and name else None,
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


@dataclass(frozen=True)
class Section:
    """One non-empty category as text cells: what the table and the markdown both show."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    folded: bool = False


def sections(report: DriftReport) -> list[Section]:
    """The one place that words a report's rows: unknown names, active or inactive."""
    found = []
    for name in BY_NEED:
        rows = report.category(name)
        if not rows:
            continue
        columns: tuple[str, ...] = ("school", "name", "API type")
        if name == "mismatched":
            columns += ("declared", "d6")
        cells: list[tuple[str, ...]] = []
        for row in rows:
            text: tuple[str, ...] = (
                str(row.school_id),
                _name(row.school_name),
                str(row.api_type_id),
            )
            if row.declared_active is not None and row.live_active is not None:
                text += (_active(row.declared_active), _active(row.live_active))
            cells.append(text)
        found.append(Section(f"{TITLES[name]} ({len(rows)})", columns, cells, name in FOLDED))
    return found


def to_json(report: DriftReport) -> str:
    body = {
        "in_sync": report.in_sync,
        **{name: [row.as_json() for row in report.category(name)] for name in CATEGORIES},
    }
    return json.dumps(body, indent=2)


def to_markdown(report: DriftReport) -> str:
    """For ``$GITHUB_STEP_SUMMARY``: a summary line, then one table per non-empty category,
    what needs action first; the onboarding queue folded, closed, in a ``<details>`` block."""
    lines = ["## d6 drift", "", report.summary()]
    for section in sections(report):
        if section.folded:  # GitHub renders markdown inside <details> after a blank line
            lines += ["", f"<details><summary>{section.title}</summary>", ""]
        else:
            lines += ["", f"### {section.title}", ""]
        lines.append("| " + " | ".join(section.columns) + " |")
        lines.append("|" + "|".join(_ALIGN.get(c, "---") for c in section.columns) + "|")
        for cells in section.rows:
            lines.append("| " + " | ".join(map(_markdown_cell, cells)) + " |")
        if section.folded:
            lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


_ALIGN = {"school": "---:", "API type": "---:"}  # numbers to the right
_SHORT = {"exclusive_deactivate": "to be deactivated by the next up (exclusive)"}


_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]<>|~])")


def _markdown_cell(text: str) -> str:
    """A cell as text: a school's name is not markdown or HTML (``[x](url)``, ``<img>``,
    ``</details>`` would render as a link, an image or end the folded block)."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


def _active(value: bool) -> str:
    return "active" if value else "inactive"


def _name(name: str | None) -> str:
    return excerpt(printable(name), 60) if name and name.strip() else UNKNOWN_NAME
