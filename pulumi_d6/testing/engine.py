"""Play the Pulumi engine against ``python -m pulumi.dynamic`` over gRPC.

This is what the Pulumi CLI's ``pulumi-resource-pulumi-python`` plugin runs. The helper sends the
same requests the engine sends (docs/ARCHITECTURE.md, "How the tests stand in for the CLI"):
``Configure`` first, then Check/Diff/Create/Read/Update/Delete with the serialized provider in
``__provider`` and numbers travelling as protobuf doubles. ``EngineStack`` adds the engine's step
logic for ``up``, ``preview``, ``refresh`` and ``destroy`` on one resource, so tests and
benchmarks read like a user's runs.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

import grpc
from pulumi.dynamic.dynamic import PROVIDER_KEY, serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from ..declarations import PROJECT
from ..integration import RESOURCE_TYPE as TYPE
from ..provider import ClientIntegrationProvider
from .processes import drain

UNKNOWN: str = rpc.UNKNOWN
CALL_TIMEOUT_SECONDS = 600.0
SECRET_KEYS = frozenset({"d6:password"})


def to_struct(props: dict[str, Any]) -> Any:
    return asyncio.run(rpc.serialize_properties(props, {}))


def from_struct(struct: Any, keep_unknowns: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = rpc.deserialize_properties(struct, keep_unknowns)
    return result


class EngineError(Exception):
    """An RPC the provider failed; ``details`` is what the engine would show the user."""

    def __init__(self, method: str, error: grpc.RpcError) -> None:
        self.method = method
        self.code: grpc.StatusCode = error.code()
        self.details: str = error.details() or ""
        super().__init__(f"{method} failed: {self.details}")


class ProviderProcess:
    """One ``python -m pulumi.dynamic`` process, configured like the engine configures it.

    Use it as a context manager. ``config`` (``d6:*`` keys) is sent with ``Configure`` at once;
    pass None to call :meth:`configure` yourself (or never, as ``pulumi import`` does). ``D6_*``
    variables of this process are not inherited: pass them in ``env``. ``call_timeout`` bounds
    each call, its wait for one of the provider's 4 worker threads included (the engine sets no
    such limit; a refresh's listing of 20,000 integrations at 200 ms a page takes 80 s alone).
    """

    def __init__(
        self,
        config: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
        *,
        call_timeout: float = CALL_TIMEOUT_SECONDS,
    ) -> None:
        self.call_timeout = call_timeout
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("D6_")}
        full_env.update(env or {})
        full_env["PULUMI_PROJECT"] = PROJECT
        self.proc: subprocess.Popen[str] = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.dynamic"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
            text=True,
        )
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.proc.kill()
            raise RuntimeError(
                f"provider did not print its port: {line!r} {self.proc.stderr.read()}"
            )
        self.port: int = int(line)
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._drains = [
            threading.Thread(target=drain, args=(self.proc.stdout, self.stdout), daemon=True),
            threading.Thread(target=drain, args=(self.proc.stderr, self.stderr), daemon=True),
        ]
        for thread in self._drains:
            thread.start()
        self.channel: grpc.Channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.stub: provider_pb2_grpc.ResourceProviderStub = provider_pb2_grpc.ResourceProviderStub(
            self.channel
        )
        self.provider: str = serialize_provider(ClientIntegrationProvider())
        if config is not None:
            self.configure(config)

    def configure(self, config: dict[str, str]) -> None:
        """``Configure`` as the engine sends it: stack config, the password secret-wrapped."""
        args = {k: rpc.wrap_rpc_secret(v) if k in SECRET_KEYS else v for k, v in config.items()}
        self._call(
            "Configure", provider_pb2.ConfigureRequest(args=to_struct(args), acceptSecrets=True)
        )

    def __enter__(self) -> ProviderProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def output(self) -> str:
        return "".join(self.stdout) + "".join(self.stderr)

    def close(self) -> None:
        self.channel.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for thread in self._drains:
            thread.join(timeout=5)

    # ------------------------------------------------------------- raw RPCs

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.stub, method)(request, timeout=self.call_timeout)
        except grpc.RpcError as error:
            raise EngineError(method, error) from None

    def with_provider(self, props: dict[str, Any]) -> dict[str, Any]:
        return {**props, PROVIDER_KEY: self.provider}

    def check(self, urn: str, olds: dict[str, Any], news: dict[str, Any]) -> Any:
        request = provider_pb2.CheckRequest(
            urn=urn,
            name=urn.rsplit("::", 1)[-1],
            type=TYPE,
            olds=to_struct(olds),
            news=to_struct(self.with_provider(news)),
            randomSeed=b"0" * 32,
        )
        return self._call("Check", request)

    def diff(self, urn: str, id_: str, olds: Any, old_inputs: Any, news: Any) -> Any:
        request = provider_pb2.DiffRequest(
            id=id_, urn=urn, olds=olds, old_inputs=old_inputs, news=news, type=TYPE
        )
        return self._call("Diff", request)

    def create(self, urn: str, inputs: Any) -> Any:
        return self._call(
            "Create", provider_pb2.CreateRequest(urn=urn, properties=inputs, type=TYPE)
        )

    def update(self, urn: str, id_: str, olds: Any, old_inputs: Any, news: Any) -> Any:
        request = provider_pb2.UpdateRequest(
            id=id_, urn=urn, olds=olds, old_inputs=old_inputs, news=news, type=TYPE
        )
        return self._call("Update", request)

    def read(self, urn: str, id_: str, state: Any, inputs: Any) -> Any:
        request = provider_pb2.ReadRequest(
            id=id_, urn=urn, properties=state, inputs=inputs, type=TYPE
        )
        return self._call("Read", request)

    def delete(self, urn: str, id_: str, state: Any, old_inputs: Any) -> None:
        request = provider_pb2.DeleteRequest(
            id=id_, urn=urn, properties=state, old_inputs=old_inputs, type=TYPE
        )
        self._call("Delete", request)


@dataclass
class ResourceState:
    """What the engine keeps in state for one resource (protobuf structs, as sent)."""

    urn: str
    id: str
    inputs: Any
    outputs: Any

    @property
    def outs(self) -> dict[str, Any]:
        return {k: v for k, v in from_struct(self.outputs).items() if k != PROVIDER_KEY}

    @property
    def ins(self) -> dict[str, Any]:
        return {k: v for k, v in from_struct(self.inputs).items() if k != PROVIDER_KEY}


Action = Literal["same", "create", "update", "replace", "delete", "refresh", "gone"]


@dataclass
class StepResult:
    """What one engine step did, and the resource's state after it (None when it is gone)."""

    action: Action
    state: ResourceState | None
    diff: Any = None


class CheckFailed(Exception):
    def __init__(self, failures: list[tuple[str, str]]) -> None:
        self.failures = failures
        super().__init__("; ".join(f"{p}: {r}" for p, r in failures))


class EngineStack:
    """The engine's step logic for single resources, over a :class:`ProviderProcess`."""

    def __init__(self, process: ProviderProcess) -> None:
        self.process = process

    @staticmethod
    def urn(name: str) -> str:
        return f"urn:pulumi:dev::{PROJECT}::{TYPE}::{name}"

    def _check(self, urn: str, olds: Any, news: dict[str, Any]) -> Any:
        olds_dict = from_struct(olds) if olds is not None else {}
        checked = self.process.check(urn, olds_dict, news)
        failures = [(f.property, f.reason) for f in checked.failures]
        if failures:
            raise CheckFailed(failures)
        return checked.inputs

    def up(
        self, name: str, props: dict[str, Any], state: ResourceState | None = None
    ) -> StepResult:
        """``pulumi up`` for one resource: check, then diff against state, then act."""
        urn = self.urn(name)
        inputs = self._check(urn, state.inputs if state else None, props)
        if state is None:
            created = self.process.create(urn, inputs)
            return StepResult("create", ResourceState(urn, created.id, inputs, created.properties))
        diff = self.process.diff(urn, state.id, state.outputs, state.inputs, inputs)
        if diff.changes != provider_pb2.DiffResponse.DIFF_SOME:
            return StepResult("same", state, diff)
        if diff.replaces:
            created = self.process.create(urn, inputs)  # create-before-delete, as the engine does
            self.process.delete(urn, state.id, state.outputs, state.inputs)
            return StepResult(
                "replace", ResourceState(urn, created.id, inputs, created.properties), diff
            )
        updated = self.process.update(urn, state.id, state.outputs, state.inputs, inputs)
        return StepResult("update", ResourceState(urn, state.id, inputs, updated.properties), diff)

    def preview(
        self, name: str, props: dict[str, Any], state: ResourceState | None = None
    ) -> StepResult:
        """``pulumi preview``: check and diff only (Create/Update are never called in preview)."""
        urn = self.urn(name)
        inputs = self._check(urn, state.inputs if state else None, props)
        if state is None:
            return StepResult("create", None)
        diff = self.process.diff(urn, state.id, state.outputs, state.inputs, inputs)
        if diff.changes != provider_pb2.DiffResponse.DIFF_SOME:
            return StepResult("same", state, diff)
        return StepResult("replace" if diff.replaces else "update", state, diff)

    def refresh(self, state: ResourceState) -> StepResult:
        read = self.process.read(state.urn, state.id, state.outputs, state.inputs)
        if not read.id:
            return StepResult("gone", None)
        inputs = read.inputs if read.HasField("inputs") else state.inputs
        return StepResult("refresh", ResourceState(state.urn, read.id, inputs, read.properties))

    def destroy(self, state: ResourceState) -> StepResult:
        self.process.delete(state.urn, state.id, state.outputs, state.inputs)
        return StepResult("delete", None)
