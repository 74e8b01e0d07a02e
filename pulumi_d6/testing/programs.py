"""Unit tests for Pulumi programs that use pulumi-d6, with no Pulumi CLI and no network.

:func:`run_program` runs a program (a function) and :func:`run_project` a project folder's
``__main__.py`` with its own ``Pulumi.<stack>.yaml``, both under Pulumi's own mocks
(``pulumi.runtime.set_mocks``). The program's d6 lookups (``get_client_integrations``, and the
root program's ``activateAllAuthorised``) answer from a listing given in code. What comes back is
every ``ClientIntegration`` the program registered: its resource name, inputs and options::

    from pulumi_d6.testing import authorised, run_project

    def test_every_school_authorised_for_type_8_is_activated():
        run = run_project(".", "prod", listing=[authorised(1000, 8)])
        assert run.named("school-1000-api-8").active
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
import runpy
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import pulumi
from pulumi.output import Unknown
from pulumi.runtime.mocks import MockMonitor

from ..declarations import PROJECT
from ..integration import RESOURCE_TYPE, IntegrationSpec
from ..lookup import listing_stand_in
from ..models import ClientIntegrationInfo, parse_id, resource_id
from ..provider import ClientIntegrationProvider
from ..resource import ClientIntegration
from ..stackfile import load_config, load_project
from .loops import RunLoops

Listing = Iterable[ClientIntegrationInfo] | None


class InvalidInputsError(ValueError):
    """A ``ClientIntegration`` was given inputs the provider's ``check`` refuses (the engine
    would stop ``pulumi preview`` and ``up`` on them); the text is the provider's own."""


def authorised(
    school_id: int, api_type_id: int, *, active: bool = False, school_name: str = ""
) -> ClientIntegrationInfo:
    """One entry of a fake d6 listing: a school that authorised you for an API type. Ids are
    refused as the provider refuses them (``InvalidValueError``), so a test cannot stand on a
    listing d6 could never give."""
    return ClientIntegrationInfo(
        school_id=parse_id(school_id, "school_id"),
        api_type_id=parse_id(api_type_id, "api_type_id"),
        active=active,
        school_name=school_name or f"School {school_id}",
    )


@dataclass(frozen=True)
class RegisteredOptions:
    """The Pulumi resource options a ``ClientIntegration`` was registered with."""

    protect: bool = False
    retain_on_delete: bool = False
    delete_before_replace: bool = False
    ignore_changes: tuple[str, ...] = ()
    replace_on_changes: tuple[str, ...] = ()
    additional_secret_outputs: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    """Names of the resources it depends on."""
    parent: str = ""
    """Name of the parent resource; empty for the stack itself."""


@dataclass(frozen=True)
class RegisteredIntegration:
    """One ``ClientIntegration`` the program declared."""

    name: str
    inputs: dict[str, Any]
    """What the program passed (``school_id``, ``api_type_id``, ``active``,
    ``deactivate_on_destroy``) as the provider's check reads it, defaults filled in; in a
    preview, a value not known yet is ``pulumi.output.Unknown``."""
    options: RegisteredOptions

    @property
    def school_id(self) -> int:
        return int(self.inputs["school_id"])

    @property
    def api_type_id(self) -> int:
        return int(self.inputs["api_type_id"])

    @property
    def active(self) -> bool:
        return bool(self.inputs.get("active", True))

    @property
    def deactivate_on_destroy(self) -> bool:
        return bool(self.inputs.get("deactivate_on_destroy", True))

    @property
    def id(self) -> str:
        """The resource id d6 state would give it, e.g. ``"1000/8"``."""
        return resource_id(self.school_id, self.api_type_id)


@dataclass(frozen=True)
class ProgramRun:
    """What one run of a program declared."""

    project: str
    stack: str
    config: dict[str, Any]
    integrations: list[RegisteredIntegration]
    """Every ``ClientIntegration`` registered, in the order the program created them."""
    exports: dict[str, Any] = field(default_factory=dict)
    """Stack outputs (``pulumi.export``), resolved."""

    def named(self, name: str) -> RegisteredIntegration:
        """The integration registered under resource name ``name``."""
        for integration in self.integrations:
            if integration.name == name:
                return integration
        known = ", ".join(i.name for i in self.integrations) or "none"
        raise KeyError(f"no ClientIntegration named {name!r} (registered: {known})")

    def config_value(self, key: str) -> Any:
        """A key of the project's namespace (``integrations``, or ``<project>:integrations``),
        ``None`` when it is not set."""
        return self.config.get(key if ":" in key else f"{self.project}:{key}")


def run_program(
    program: Callable[[], object],
    config: Mapping[str, Any] | None = None,
    *,
    listing: Listing = (),
    project: str = PROJECT,
    stack: str = "test",
    preview: bool = False,
) -> ProgramRun:
    """Run ``program`` with stack ``config`` (``{"d6:username": ..., "<project>:integrations":
    [...]}``, values as YAML would give them) under Pulumi's mocks.

    A key without a namespace (``"integrations"``) is the project's, as in a stack file.
    d6 lookups answer from ``listing`` (empty by default: no network). ``listing=None`` lets
    them reach the d6 the config points at (the project's own tests use its emulator).
    Each ``ClientIntegration`` gets the provider's ``check`` (bad inputs raise
    :class:`InvalidInputsError`) and the outputs ``up`` would give it: its inputs, and d6's
    descriptive fields (``school_name``, ...) from ``listing`` when it lists the integration,
    else empty strings.
    """
    given = _namespaced(config or {}, project)
    context = contextvars.copy_context()  # Pulumi's settings and config stay inside this run
    return context.run(_run, program, given, listing, project, stack, preview)


def run_project(
    directory: str | os.PathLike[str],
    stack: str,
    *,
    listing: Listing = (),
    config: Mapping[str, Any] | None = None,
    preview: bool = False,
) -> ProgramRun:
    """Run the project in ``directory`` (its ``__main__.py``, or the ``main`` its
    ``Pulumi.yaml`` names) with the config of ``Pulumi.<stack>.yaml``, as ``pulumi up`` would.

    Secret values (``secure:``) cannot be decrypted without the Pulumi CLI and are left out;
    ``config`` adds or overrides keys (a key without a namespace is the project's, as in the
    stack file).
    """
    folder = Path(directory).resolve()
    if not (folder / "Pulumi.yaml").is_file():
        raise FileNotFoundError(
            f"{folder / 'Pulumi.yaml'} does not exist: is this a Pulumi project?"
        )
    project_file = load_project(folder)
    stack_config = load_config(folder / f"Pulumi.{stack}.yaml")
    name = str(project_file["name"])
    values = _namespaced(
        {
            k: v
            for k, v in stack_config.items()
            if not (isinstance(v, Mapping) and set(v) == {"secure"})
        },
        name,
    )
    values.update(_namespaced(config or {}, name))
    main = folder / str(project_file.get("main") or "")
    entry = main / "__main__.py" if main.is_dir() else main

    def program() -> None:
        with _inside(entry.parent):
            runpy.run_path(str(entry), run_name="__main__")

    return run_program(
        program,
        values,
        listing=listing,
        project=name,
        stack=stack,
        preview=preview,
    )


def _namespaced(config: Mapping[str, Any], project: str) -> dict[str, Any]:
    """``config`` with each key that has no namespace put in the project's, as Pulumi reads a
    stack file (``integrations`` is ``<project>:integrations``)."""
    return {(key if ":" in key else f"{project}:{key}"): value for key, value in config.items()}


# ------------------------------------------------------------------ machinery


class _Recorder(pulumi.runtime.Mocks):
    """Checks each registration as the provider does and answers with the outputs it would
    give: the checked inputs, plus d6's descriptive fields when the listing has them."""

    def __init__(self, listing: list[ClientIntegrationInfo]) -> None:
        self.by_key = {i.key: i for i in listing}
        self.registered: list[tuple[str, dict[str, Any]]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = {k: _whole(v) for k, v in args.inputs.items() if k != "__provider"}
        if args.typ != RESOURCE_TYPE:
            return f"{args.name}-id", inputs
        checked = ClientIntegrationProvider().check({}, inputs)
        if checked.failures:
            reasons = "; ".join(f"{f.property}: {f.reason}" for f in checked.failures)
            raise InvalidInputsError(f"ClientIntegration {args.name!r}: {reasons}")
        if any(isinstance(value, Unknown) for value in (checked.inputs or {}).values()):
            # A preview, with an input not known yet: registered as it is, as the engine would.
            self.registered.append((args.name, dict(checked.inputs or {})))
            return "", dict(checked.inputs or {})
        spec = IntegrationSpec.of(checked.inputs or {})
        self.registered.append((args.name, spec.inputs()))
        outputs = spec.outputs(live_active=spec.active, info=self.by_key.get(spec.key))
        return spec.id, outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:  # noqa: ARG002
        return {}, None


class _Monitor(MockMonitor):
    """Pulumi's mock monitor, keeping each ClientIntegration's registration request (its
    options are not part of what ``Mocks.new_resource`` sees)."""

    def __init__(self, mocks: _Recorder, loops: RunLoops) -> None:
        super().__init__(mocks)
        self.requests: dict[str, Any] = {}
        self.loops = loops

    def RegisterResource(self, request: Any) -> Any:
        if request.type == RESOURCE_TYPE:
            self.requests[request.name] = request
        self.loops.for_this_thread()
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]

    def ReadResource(self, request: Any) -> Any:
        self.loops.for_this_thread()
        return super().ReadResource(request)  # type: ignore[no-untyped-call]

    def Invoke(self, request: Any) -> Any:
        self.loops.for_this_thread()
        return super().Invoke(request)  # type: ignore[no-untyped-call]


def _options(request: Any) -> RegisteredOptions:
    return RegisteredOptions(
        protect=bool(request.protect),
        retain_on_delete=bool(request.retainOnDelete),
        delete_before_replace=bool(request.deleteBeforeReplace),
        ignore_changes=tuple(request.ignoreChanges),
        replace_on_changes=tuple(request.replaceOnChanges),
        additional_secret_outputs=tuple(request.additionalSecretOutputs),
        depends_on=tuple(_name(urn) for urn in request.dependencies),
        parent="" if "::pulumi:pulumi:Stack::" in request.parent else _name(request.parent),
    )


def _name(urn: str) -> str:
    return urn.rpartition("::")[2]


def _whole(value: Any) -> Any:
    """Numbers cross the engine as doubles: ``1000.0`` is reported as ``1000``."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _run(
    program: Callable[[], object],
    config: dict[str, Any],
    listing: Listing,
    project: str,
    stack: str,
    preview: bool,
) -> ProgramRun:
    fake = None if listing is None else _entries(listing)
    recorder = _Recorder(fake or [])
    loops = RunLoops()
    monitor = _Monitor(recorder, loops)
    asyncio.set_event_loop(loops.main)
    exports: dict[str, Any] = {}
    resolved: dict[str, Any] = {}
    created: list[str] = []
    try:
        pulumi.runtime.set_all_config(
            {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()},
            [k for k in config if k.endswith(":password")],
        )
        pulumi.runtime.set_mocks(recorder, project, stack, preview, monitor=monitor)

        @pulumi.runtime.test  # type: ignore[untyped-decorator]
        def wrapped() -> pulumi.Output[Any]:
            program()
            names = list(exports)
            return pulumi.Output.all(*[exports[n] for n in names]).apply(
                lambda values: resolved.update(zip(names, values, strict=True))
            )

        with (
            mock.patch.object(pulumi, "export", exports.__setitem__),
            mock.patch.object(ClientIntegration, "__init__", _noting(created)),
            listing_stand_in(fake),
        ):
            wrapped()
    except BaseException as exc:
        loops.raised = exc
        raise
    finally:
        loops.close()
    integrations = [
        RegisteredIntegration(name, inputs, _options(monitor.requests[name]))
        for name, inputs in _in_program_order(recorder.registered, created)
    ]
    return ProgramRun(project, stack, config, integrations, resolved)


def _noting(created: list[str]) -> Callable[..., None]:
    """``ClientIntegration.__init__``, noting each resource name as the program creates it."""
    init = ClientIntegration.__init__

    def noting(self: ClientIntegration, resource_name: str, *args: Any, **kwargs: Any) -> None:
        created.append(resource_name)
        init(self, resource_name, *args, **kwargs)

    return noting


def _in_program_order(
    registered: list[tuple[str, dict[str, Any]]], created: list[str]
) -> list[tuple[str, dict[str, Any]]]:
    """Registrations in the order the program created them: the engine registers resources
    from worker threads, so the order they arrive in varies from run to run."""
    position = {name: index for index, name in enumerate(created)}
    return sorted(registered, key=lambda item: position.get(item[0], len(position)))


def _entries(listing: Iterable[Any]) -> list[ClientIntegrationInfo]:
    """The listing, each entry checked: a plain tuple or dict is refused with what to write."""
    entries = list(listing)
    for position, entry in enumerate(entries):
        if not isinstance(entry, ClientIntegrationInfo):
            raise TypeError(
                f"listing[{position}] is a {type(entry).__name__} ({entry!r:.40}), not a listing "
                "entry: write authorised(school_id, api_type_id) from pulumi_d6.testing"
            )
    return entries


@contextmanager
def _inside(folder: Path) -> Iterator[None]:
    """Run in the program's folder, with it on ``sys.path``, as the Pulumi language host does."""
    before = Path.cwd()
    os.chdir(folder)
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        os.chdir(before)
