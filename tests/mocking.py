"""Run Pulumi programs under ``pulumi.runtime.set_mocks`` with given stack config."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pulumi
import pytest


class RecordingMocks(pulumi.runtime.Mocks):
    """Records every registered resource and answers with its inputs plus d6-like outputs."""

    def __init__(self) -> None:
        self.created: list[pulumi.runtime.MockResourceArgs] = []
        self.secret_outputs: dict[str, list[str]] = {}  # what each registration asked to encrypt

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.created.append(args)
        outs = {k: v for k, v in args.inputs.items() if k != "__provider"}
        outs.setdefault("school_name", "Mock School")
        return f"{int(outs['school_id'])}/{int(outs['api_type_id'])}", outs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None

    @property
    def keys(self) -> list[tuple[int, int, bool]]:
        return [
            (int(a.inputs["school_id"]), int(a.inputs["api_type_id"]), bool(a.inputs["active"]))
            for a in self.created
        ]


def run_program(
    monkeypatch: pytest.MonkeyPatch,
    program: Callable[[], Any],
    config: dict[str, Any],
    project: str = "d6-integrations",
) -> tuple[RecordingMocks, dict[str, Any]]:
    """Run ``program`` with ``config`` (values JSON-encoded like the engine does) and return the
    recorded resources and the resolved ``pulumi.export`` values."""
    encoded = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(encoded))
    exports: dict[str, Any] = {}
    monkeypatch.setattr(pulumi, "export", lambda name, value: exports.__setitem__(name, value))
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project=project, stack="dev", preview=False)
    monitor: Any = pulumi.runtime.settings.get_monitor()
    register = monitor.RegisterResource

    def recording_register(request: Any) -> Any:
        mocks.secret_outputs[request.name] = list(request.additionalSecretOutputs)
        return register(request)

    monitor.RegisterResource = recording_register
    resolved: dict[str, Any] = {}
    try:

        @pulumi.runtime.test  # type: ignore[untyped-decorator]
        def wrapped() -> pulumi.Output[Any]:
            program()
            names = list(exports)
            return pulumi.Output.all(*[exports[n] for n in names]).apply(
                lambda values: resolved.update(zip(names, values, strict=True))
            )

        wrapped()
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    return mocks, resolved
