"""The deactivations a ``pulumi preview --json`` plans for ``ClientIntegration`` resources.

A pull request that removes twenty entries from a stack file reads as a small diff, but merging it
ends twenty schools' service. Pulumi's own ``changeSummary`` cannot tell: it counts a delete with
``deactivate_on_destroy: false`` (which only forgets) and misses an update of ``active`` to
false or a create with ``active: false`` (both deactivate). This module reads each step's old and
new state instead. It imports nothing from Pulumi: the input is the JSON the CLI prints.

Shapes (see docs/CHECK_PREVIEW.md): Pulumi's ``PreviewDigest`` (``pkg/display/json.go``) with
``steps[]`` of ``{op, urn, oldState, newState, ...}``; the states are ``apitype.ResourceV3``.
Secrets print as ``"[secret]"`` and unknowns as the unknown sentinel; either counts as "may
deactivate", never as "safe".

Which steps are ours: the URN's type is ``pulumi-python:dynamic/d6:ClientIntegration``, or the URN
names another dynamic type (a subclass that declares no ``module``/``name`` of its own) and the
step's ``__provider`` input is a pickle of ``pulumi_d6.provider.ClientIntegrationProvider``. The
pickle is only tokenised with :mod:`pickletools`, never loaded.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import pickletools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InvalidValueError, excerpt, shown
from .integration import RESOURCE_TYPE
from .models import ClientIntegrationInfo
from .settings import DEFAULT_MAX_DEACTIVATIONS, MAX_DEACTIVATIONS_KEY, parse_max_deactivations

DYNAMIC_TYPE_PREFIX = RESOURCE_TYPE.split("/")[0]  # "pulumi-python:dynamic"
PROVIDER_REFERENCE = ("pulumi_d6.provider", "ClientIntegrationProvider")
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""Pulumi's sentinel for a value not known until apply (``plugin.UnknownStringValue``)."""
SECRET_SHOWN = "[secret]"  # noqa: S105 - how Pulumi prints a secret, not a secret
BUDGET_KEY = MAX_DEACTIVATIONS_KEY.stack_key
BUDGET_ENV = MAX_DEACTIVATIONS_KEY.env_var
DEFAULT_LIMIT = DEFAULT_MAX_DEACTIVATIONS
_URN_PREFIX = "urn:pulumi:"


class PreviewFileError(InvalidValueError):
    """The input is not the JSON that ``pulumi preview --json`` prints."""


@dataclass(frozen=True)
class Deactivation:
    """One planned step that may deactivate an integration; ids are None when unknown."""

    op: str
    urn: str
    school_id: int | None
    api_type_id: int | None
    reason: str

    @property
    def name(self) -> str:
        """The resource name: everything after the URN's third ``::``."""
        return self.urn[len(_URN_PREFIX) :].split("::", 3)[3]

    @property
    def key(self) -> tuple[int, int] | None:
        if self.school_id is None or self.api_type_id is None:
            return None
        return self.school_id, self.api_type_id

    def as_json(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "urn": self.urn,
            "name": self.name,
            "school_id": self.school_id,
            "api_type_id": self.api_type_id,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Limit:
    """How many deactivations one run may send (None: unlimited) and where that was set."""

    value: int | None
    source: str
    stack: str | None = None  # from the stack file's name, for the `pulumi config set` hint

    def allows(self, count: int) -> bool:
        return self.value is None or count <= self.value

    def shown(self) -> str:
        return "unlimited" if self.value is None else str(self.value)


@dataclass(frozen=True)
class PreviewCheck:
    """The verdict: the planned deactivations against the limit."""

    deactivations: tuple[Deactivation, ...]
    limit: Limit
    live_checked: bool = False

    @property
    def within_limit(self) -> bool:
        return self.limit.allows(len(self.deactivations))

    def summary(self) -> str:
        count = len(self.deactivations)
        verdict = "within the limit" if self.within_limit else "OVER THE LIMIT"
        live = " (only those d6 shows active now)" if self.live_checked else ""
        text = (
            f"{count} planned deactivation{'' if count == 1 else 's'}{live}, "
            f"limit {self.limit.shown()} ({self.limit.source}): {verdict}"
        )
        if not self.within_limit:
            text += f". If this is intended, {self.how_to_raise()}"
        return text

    def how_to_raise(self) -> str:
        needed = len(self.deactivations)
        if self.limit.source.startswith("--max-deactivations"):
            return f"pass --max-deactivations {needed} or more"
        if self.limit.source.startswith(BUDGET_ENV):
            return f"set {BUDGET_ENV}={needed} or more"
        stack = f" --stack {self.limit.stack}" if self.limit.stack else ""
        return (
            f"raise {BUDGET_KEY} to {needed} or more in the stack file, in this pull request "
            f"(pulumi config set{stack} {BUDGET_KEY} {needed})"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "deactivations": [d.as_json() for d in self.deactivations],
            "count": len(self.deactivations),
            "limit": self.limit.value,
            "limit_source": self.limit.source,
            "within_limit": self.within_limit,
            "live_checked": self.live_checked,
        }

    def to_markdown(self) -> str:
        """For ``$GITHUB_STEP_SUMMARY``: the verdict, then one row per planned deactivation."""
        mark = "✅" if self.within_limit else "❌"
        lines = ["## d6 deactivations planned by this preview", "", f"{mark} {self.summary()}"]
        if self.deactivations:
            lines += [
                "",
                "| resource | school | API type | step | why |",
                "|---|---:|---:|---|---|",
            ]
            for item in self.deactivations:
                cells = [
                    _md(item.name),
                    _id_text(item.school_id),
                    _id_text(item.api_type_id),
                    item.op,
                    _md(item.reason),
                ]
                lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"


def read_digest(text: str, where: str) -> list[dict[str, Any]]:
    """The steps of a ``PreviewDigest``, each checked for the fields this module reads."""
    if not text.strip():
        raise PreviewFileError(
            f"{where} is empty: `pulumi preview --json` printed nothing (did the preview fail?)"
        )
    try:
        digest = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PreviewFileError(
            f"{where} is not JSON (line {exc.lineno} column {exc.colno}: {exc.msg}); "
            "give the output of `pulumi preview --json`"
        ) from None
    except RecursionError:
        raise PreviewFileError(f"{where} is nested too deeply to be a Pulumi preview") from None
    if not isinstance(digest, dict):
        raise PreviewFileError(
            f"{where} is not the output of `pulumi preview --json` "
            f"(expected a JSON object with steps, got {shown(digest)})"
        )
    if "steps" not in digest:
        raise PreviewFileError(
            f"{where} is not the output of `pulumi preview --json`: {_guess(digest)}"
        )
    steps = digest["steps"]
    if not isinstance(steps, list):
        raise PreviewFileError(f"{where}: steps must be a list, got {shown(steps)}")
    _refuse_failed_preview(digest, where)
    for index, step in enumerate(steps):
        _check_step(step, f"{where}: steps[{index}]")
    return steps


def _guess(digest: Mapping[str, Any]) -> str:
    if "deployment" in digest:
        return "it looks like `pulumi stack export`; run `pulumi preview --json` instead"
    if "resources" in digest and "summary" in digest:
        return (
            "it looks like `--output json`, which carries no resource states; "
            "run `pulumi preview --json` instead"
        )
    keys = ", ".join(sorted(map(str, digest))[:5]) or "none"
    return f"it has no steps (keys: {excerpt(keys, 80)})"


def _refuse_failed_preview(digest: Mapping[str, Any], where: str) -> None:
    """A failed preview lists only the steps planned before the error: counting them would pass
    a plan nobody has seen whole."""
    diagnostics = digest.get("diagnostics") or []
    if not isinstance(diagnostics, list):
        raise PreviewFileError(f"{where}: diagnostics must be a list, got {shown(diagnostics)}")
    errors = [d for d in diagnostics if isinstance(d, dict) and d.get("severity") == "error"]
    if errors:
        first = excerpt(str(errors[0].get("message") or "(no message)"), 160)
        raise PreviewFileError(
            f"{where}: the preview failed ({len(errors)} error diagnostic"
            f"{'' if len(errors) == 1 else 's'}, first: {first}); fix it and preview again"
        )


def _check_step(step: Any, where: str) -> None:
    if not isinstance(step, dict):
        raise PreviewFileError(f"{where} must be an object with op and urn, got {shown(step)}")
    for field in ("op", "urn"):
        if not isinstance(step.get(field), str) or not step[field]:
            raise PreviewFileError(
                f"{where}.{field} must be a non-empty string, got {shown(step.get(field))}"
            )
    urn = step["urn"]
    if not urn.startswith(_URN_PREFIX) or urn.count("::") < 3:
        raise PreviewFileError(
            f"{where}.urn is not a Pulumi URN (urn:pulumi:STACK::PROJECT::TYPE::NAME): "
            f"{shown(urn, 80)}"
        )
    for state in ("oldState", "newState"):
        value = step.get(state)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise PreviewFileError(f"{where}.{state} must be an object, got {shown(value)}")
        for part in ("inputs", "outputs"):
            if value.get(part) is not None and not isinstance(value[part], dict):
                raise PreviewFileError(
                    f"{where}.{state}.{part} must be an object, got {shown(value[part])}"
                )


def urn_type(urn: str) -> str:
    """The resource type a URN names (the last ``$``-part of its qualified type), as Pulumi's
    ``URN.Type()`` reads it."""
    qualified = urn[len(_URN_PREFIX) :].split("::", 3)[2]
    return qualified.rsplit("$", 1)[-1]


def is_client_integration(step: Mapping[str, Any]) -> bool:
    """Whether a step is about a ``ClientIntegration`` (see the module docstring for the rule)."""
    kind = urn_type(step["urn"])
    if kind == RESOURCE_TYPE:
        return True
    if not kind.startswith(DYNAMIC_TYPE_PREFIX):
        return False
    return any(
        _pickles_our_provider(_inputs(step.get(state)).get("__provider"))
        for state in ("oldState", "newState")
    )


def _pickles_our_provider(value: Any) -> bool:
    """Whether a ``__provider`` value is a pickle that references our provider class.

    Only the opcode stream is read (``pickletools.genops``), so nothing in it runs.
    """
    if not isinstance(value, str) or value in (SECRET_SHOWN, UNKNOWN):
        return False
    try:
        data = base64.b64decode(value, validate=True)
        strings = {arg for _, arg, _ in pickletools.genops(data) if isinstance(arg, str)}
    except (binascii.Error, ValueError):
        return False
    module, name = PROVIDER_REFERENCE
    return (module in strings and name in strings) or f"{module} {name}" in strings


def planned_deactivations(steps: Iterable[Mapping[str, Any]], where: str) -> list[Deactivation]:
    """Every ``ClientIntegration`` step that may deactivate an integration.

    A ``replace`` is counted from its logical step; the ``create-replacement`` and
    ``delete-replaced`` steps that ``--show-replacement-steps`` adds repeat it and are skipped.
    """
    found: list[Deactivation] = []
    for index, step in enumerate(steps):
        if not is_client_integration(step):
            continue
        op = step["op"]
        old, new = step.get("oldState"), step.get("newState")
        at = f"{where}: steps[{index}] ({op} {shown(step['urn'], 120)})"
        if op in ("delete", "replace", "update") and old is None:
            raise PreviewFileError(f"{at} has no oldState; Pulumi writes one for every {op}")
        if op in ("create", "replace", "update") and new is None:
            raise PreviewFileError(f"{at} has no newState; Pulumi writes one for every {op}")
        reason = _reason(op, old, new)
        if reason is not None:
            found.append(_item(op, step["urn"], new if op == "create" else old, reason))
        if op == "replace" and (side := _reason("create", None, new)) is not None:
            found.append(_item(op, step["urn"], new, f"replacement {side}"))
    return found


def _reason(op: str, old: Any, new: Any) -> str | None:
    """Why this step may deactivate, or None when it cannot."""
    if op in ("delete", "replace"):
        if _old_flag(old, "deactivate_on_destroy") is False or old.get("retainOnDelete"):
            return None
        if _old_flag(old, "active") is False:
            return None
        return "removes an active integration with deactivate_on_destroy"
    if op == "update":
        if _old_flag(old, "active") is False:
            return None
        wanted = _new_flag(new, "active")
        if wanted is True:
            return None
        if wanted is False:
            return "sets active to false"
        if _inputs(new).get("active") == SECRET_SHOWN:
            return "sets active to a secret value (may be false)"
        return "sets active to a value not known yet"
    if op == "create":
        wanted = _new_flag(new, "active")
        if wanted is True:
            return None
        if wanted is False:
            return "created with active: false (deactivates it if d6 has it active)"
        return "created with active not known yet"
    return None


def _item(op: str, urn: str, state: Any, reason: str) -> Deactivation:
    inputs = _inputs(state)
    return Deactivation(
        op, urn, _id(inputs.get("school_id")), _id(inputs.get("api_type_id")), reason
    )


def _inputs(state: Any) -> dict[str, Any]:
    if not isinstance(state, dict):
        return {}
    return state.get("inputs") or {}


def _flag(value: Any) -> bool | None:
    """True/False, or None for anything that may be either (unknown, ``[secret]``, absent)."""
    return value if isinstance(value, bool) else None


def _old_flag(old: Mapping[str, Any], field: str) -> bool | None:
    """An old state's value: outputs hold what the last read saw (``active`` is live), inputs
    what was declared; the provider's delete reads the outputs."""
    for part in ("outputs", "inputs"):
        values = old.get(part) or {}
        if field in values:
            return _flag(values[field])
    return None


def _new_flag(new: Mapping[str, Any], field: str) -> bool | None:
    """A new state's declared value: the inputs are what the program asks for."""
    return _flag(_inputs(new).get(field, True))


def _id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and 0 < value < 2**53 else None


def only_active_now(
    deactivations: Iterable[Deactivation], live: Iterable[ClientIntegrationInfo]
) -> list[Deactivation]:
    """Keep those d6 lists as active now (an integration inactive or gone cannot be
    deactivated); one whose ids are not known yet is kept."""
    active = {info.key for info in live if info.active}
    return [d for d in deactivations if d.key is None or d.key in active]


def resolve_limit(
    flag: str | None,
    config: Mapping[str, Any] | None,
    stack_file: str | None,
    env: Mapping[str, str] | None = None,
) -> Limit:
    """The limit in force: ``--max-deactivations``, else the stack file's ``d6:maxDeactivations``,
    else ``D6_MAX_DEACTIVATIONS``, else the provider's default — the order ``pulumi up`` uses."""
    env = os.environ if env is None else env
    if flag is not None:
        return _limit(flag, "--max-deactivations")
    if config is None:
        raise PreviewFileError(
            "give the limit: --max-deactivations N (or unlimited), or --stack-config FILE to "
            f"use the stack's {BUDGET_KEY}"
        )
    if config.get(BUDGET_KEY) is not None:
        limit = _limit(config[BUDGET_KEY], f"{BUDGET_KEY} in {stack_file}")
        return Limit(limit.value, limit.source, _stack_name(stack_file))
    if env.get(BUDGET_ENV, "").strip():
        return _limit(env[BUDGET_ENV], BUDGET_ENV)
    return Limit(DEFAULT_LIMIT, f"{BUDGET_KEY} default; {stack_file} does not set it")


def _stack_name(stack_file: str | None) -> str | None:
    match = re.fullmatch(r"Pulumi\.([A-Za-z0-9_.-]+)\.yaml", Path(stack_file or "").name)
    return match.group(1) if match else None


def _limit(value: Any, source: str) -> Limit:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    try:
        return Limit(parse_max_deactivations(text), source)
    except ValueError as exc:
        raise PreviewFileError(f"{source} {exc}, got {shown(value)}") from None


def _id_text(value: int | None) -> str:
    return "(unknown)" if value is None else str(value)


def _md(text: str) -> str:
    return excerpt(text, 80).replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")
