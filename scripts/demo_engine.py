"""`make demo` without the Pulumi CLI: the ``dev`` stack driven over the engine's gRPC protocol.

The provider runs in ``python -m pulumi.dynamic``, one process per operation as the CLI starts
one per ``pulumi up``, and ``pulumi_d6.testing.engine`` sends it the requests the engine sends.
Which resources the stack declares comes from the root program's own declarations code reading
``Pulumi.dev.yaml`` (:func:`planned`); state lives in a file (``demo_state``). Every operation
ends with the requests d6 received, read from the emulator's request log.

What the CLI does and this does not: run ``__main__.py`` itself, encrypt state, run steps in
parallel. What it shows is the provider's real behaviour: the same calls, the same requests.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from demo_state import DemoState, StateFileError, name_of

from pulumi_d6.client import D6Client
from pulumi_d6.declarations import from_stack_config, plan
from pulumi_d6.emulator.admin import EmulatorAdmin
from pulumi_d6.errors import D6Error
from pulumi_d6.resource import SECRET_OUTPUTS
from pulumi_d6.settings import resolve_settings, stack_file_settings
from pulumi_d6.stackfile import load_config, project_name
from pulumi_d6.testing.engine import (
    CheckFailed,
    EngineError,
    EngineStack,
    ProviderProcess,
    ResourceState,
)

CLI_NOT_FOUND = (
    "Pulumi CLI not found: the provider runs in `python -m pulumi.dynamic` and is driven over "
    "the engine's gRPC protocol, as `pulumi up` would drive it"
)
SIGNS = {"create": "+", "update": "~", "replace": "+-", "delete": "-", "refresh": "~", "gone": "-"}
VERBS = {
    "create": "created",
    "update": "updated",
    "replace": "replaced",
    "delete": "deleted",
    "refresh": "refreshed",
    "gone": "deleted",
}


@dataclass(frozen=True)
class Planned:
    """One resource the program declares: its name and its inputs."""

    name: str
    inputs: dict[str, Any]


@dataclass(frozen=True)
class Stack:
    """A stack file of the root program (``Pulumi.<stack>.yaml``) and its project."""

    name: str
    project: str
    file: Path
    config: dict[str, Any]

    @classmethod
    def load(cls, root: Path, name: str) -> Stack:
        file = root / f"Pulumi.{name}.yaml"
        return cls(name, project_name(root), file, load_config(file))

    def d6_config(self, base_url: str) -> dict[str, str]:
        """``d6:*`` as the engine sends it (strings), with the running emulator's base URL.

        ``secure:`` values need the CLI to decrypt; the demo's password comes from the
        environment, as ``make demo`` with the CLI passes it.
        """
        return {**stack_file_settings(self.config, str(self.file)), "d6:baseUrl": base_url}


def planned(stack: Stack, client: D6Client) -> list[Planned]:
    """What the root program declares for ``stack``: its own parser and plan, one place."""
    entries = plan(
        from_stack_config(stack.config, stack.project, str(stack.file)),
        lambda api_type_id: client.list_integrations(api_type_id=api_type_id),
    )
    return [
        Planned(
            e.resource_name,
            e.inputs(),
        )
        for e in entries
    ]


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def shown(value: Any) -> str:
    return json.dumps(value)


def changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """``key: old => new`` for each key whose value differs, as ``pulumi up`` lists them."""
    keys = [k for k in new if k not in SECRET_OUTPUTS and old.get(k) != new.get(k)]
    return ", ".join(f"{k}: {shown(old.get(k))} => {shown(new.get(k))}" for k in keys)


def declared(inputs: Mapping[str, Any]) -> str:
    text = f"active: {shown(inputs['active'])}"
    if not inputs["deactivate_on_destroy"]:
        text += ", deactivate_on_destroy: false"
    return text


class RequestLog:
    """Requests d6 received, from the emulator's request log (its admin routes are not in it)."""

    def __init__(self, admin: EmulatorAdmin) -> None:
        self.admin = admin
        self.start = self._counts()
        self.mark = self.start

    def _counts(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for row in self.admin.requests(last=0)["counts"]:
            counts["read" if row["method"] == "GET" else "change request"] += row["count"]
        return counts

    def since_mark(self) -> Counter[str]:
        now = self._counts()
        delta, self.mark = now - self.mark, now
        return delta

    def since_start(self) -> Counter[str]:
        return self._counts() - self.start

    @staticmethod
    def describe(counts: Counter[str], source: str = "") -> str:
        total = counts["read"] + counts["change request"]
        return (
            f"d6 received {plural(total, 'request')}{source}: "
            f"{plural(counts['change request'], 'change request')}, "
            f"{plural(counts['read'], 'read')}"
        )


class Demo:
    """The operations of the demo on one stack, one emulator and one state file."""

    def __init__(
        self,
        stack: Stack,
        state: DemoState,
        base_url: str,
        admin: EmulatorAdmin,
        env: dict[str, str],
    ) -> None:
        self.stack = stack
        self.state = state
        self.base_url = base_url
        self.admin = admin
        self.env = env
        self.log = RequestLog(admin)

    def _provider(self) -> ProviderProcess:
        return ProviderProcess(self.stack.d6_config(self.base_url), env=self.env)

    def _program(self) -> list[Planned]:
        """Run the program's part: the declared resources (it lists d6 for discovery)."""
        settings = resolve_settings(config=self.stack.d6_config(self.base_url), env=self.env)
        self.log.since_mark()
        with D6Client(settings) as client:
            resources = planned(self.stack, client)
        reads = self.log.since_mark()["read"]
        listing = f" (listing d6 for activateAllAuthorised: {plural(reads, 'request')})"
        print(
            f"program: {self.stack.file.name} declares {plural(len(resources), 'resource')}"
            f"{listing if reads else ''}"
        )
        return resources

    @staticmethod
    def _row(action: str, name: str, school: str, what: str, verb: str = "") -> None:
        sign = SIGNS.get(action, " ")
        print(f"  {sign:<2} {name:<22} {verb or VERBS[action]:<9} {school:<34} {what}".rstrip())

    @staticmethod
    def _school(state: ResourceState | None) -> str:
        return str(state.outs.get("school_name", "")) if state else "(known after up)"

    def _summary(self, tally: Counter[str]) -> None:
        parts = [f"{n} {verb}" for verb, n in tally.items() if n]
        print(f"  Resources: {', '.join(parts) or 'none'}")
        print(f"  {RequestLog.describe(self.log.since_mark(), ' from the provider')}")

    def preview(self) -> None:
        self._program_run("preview (Check and Diff only: the provider sends nothing to d6)")

    def up(self, title: str) -> None:
        self._program_run(title, apply=True)

    def _program_run(self, title: str, *, apply: bool = False) -> None:
        """Run the program, then step each resource it declares; delete what it no longer does."""
        print(f"\n--- {title} ---")
        resources = self._program()
        tally: Counter[str] = Counter()
        with self._provider() as process:
            engine = EngineStack(process)
            step_of = engine.up if apply else engine.preview
            for item in resources:
                old = self.state.resources.get(item.name)
                step = step_of(item.name, item.inputs, old)
                if step.action == "same":
                    tally["unchanged"] += 1
                    continue
                what = changed(old.ins, item.inputs) if old else declared(item.inputs)
                if apply:
                    assert step.state is not None
                    self.state.put(step.state)
                    self._row(step.action, item.name, self._school(step.state), what)
                    tally[VERBS[step.action]] += 1
                else:
                    self._row(step.action, item.name, self._school(old), what, step.action)
                    tally[f"to {step.action}"] += 1
            for name in self._orphans(resources):
                if apply:
                    self._delete(engine, name)
                    tally["deleted"] += 1
                else:
                    old_school = self._school(self.state.resources[name])
                    self._row("delete", name, old_school, "", "delete")
                    tally["to delete"] += 1
        self._summary(tally)

    def _orphans(self, resources: list[Planned]) -> list[str]:
        keep = {item.name for item in resources}
        return [name for name in reversed(self.state.resources) if name not in keep]

    def _delete(self, engine: EngineStack, name: str) -> None:
        old = self.state.resources[name]
        outs = old.outs
        if not outs.get("deactivate_on_destroy", True):
            what = "forgotten: deactivate_on_destroy is false, d6 left as it is"
        elif outs.get("active"):
            what = "deactivated"
        else:
            what = "was inactive: no request"
        engine.destroy(old)
        self.state.drop(name)
        self._row("delete", name, self._school(old), what)

    def refresh(self) -> None:
        print("\n--- refresh (Read: state from d6's live listing) ---")
        tally: Counter[str] = Counter()
        with self._provider() as process:
            engine = EngineStack(process)
            for name, old in list(self.state.resources.items()):
                step = engine.refresh(old)
                if step.state is None:
                    self.state.drop(name)
                    self._row("gone", name, self._school(old), "no longer authorised by the school")
                    tally["deleted"] += 1
                    continue
                what = changed(old.outs, step.state.outs)
                self.state.put(step.state)
                if what:
                    self._row("refresh", name, self._school(step.state), what, "updated")
                    tally["updated"] += 1
                else:
                    tally["unchanged"] += 1
        self._summary(tally)

    def destroy(self) -> None:
        print("\n--- destroy ---")
        tally: Counter[str] = Counter()
        if self.state.resources:
            with self._provider() as process:
                engine = EngineStack(process)
                for name in list(reversed(self.state.resources)):
                    self._delete(engine, name)
                    tally["deleted"] += 1
        self._summary(tally)

    def drift(self) -> bool:
        """Deactivate one managed integration in d6 itself, as someone in the d6+ UI would."""
        found = next((s for s in self.state.resources.values() if s.outs.get("active")), None)
        if found is None:
            return False
        outs = found.outs
        self.admin.set_active(int(outs["school_id"]), int(outs["api_type_id"]), False)
        print(
            f"\n--- a change made in d6: {name_of(found)} ({outs['school_name']}) deactivated "
            "there (through the emulator's admin API, not a d6 API request) ---"
        )
        return True

    def finish(self) -> None:
        print(f"\nthis run: {RequestLog.describe(self.log.since_start())}")


def run(
    action: str,
    *,
    root: Path,
    state_file: Path,
    base_url: str,
    admin: EmulatorAdmin,
    env: dict[str, str],
) -> int:
    """``up`` (preview, up; on a new stack also a drift, refresh and two ups) or ``destroy``."""
    try:
        stack = Stack.load(root, "dev")
        state = DemoState(state_file)
        demo = Demo(stack, state, base_url, admin, env)
        print(f"stack {stack.name}: {stack.file.name}, state in {state_file}")
        if action == "destroy":
            demo.destroy()
        else:
            new_stack = not state.resources
            demo.preview()
            demo.up("up")
            if new_stack and demo.drift():
                demo.refresh()
                demo.up("up after the refresh (a change: it puts back what d6 lost)")
                demo.up("up again (nothing to change: no request)")
        demo.finish()
    except EngineError as exc:  # its details are the provider's traceback: its last line says why
        lines = [line for line in exc.details.splitlines() if line.strip()] or [str(exc.code)]
        print(f"demo failed: {exc.method}: {lines[-1]}", file=sys.stderr)
        return 1
    except (D6Error, CheckFailed, StateFileError) as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    return 0
