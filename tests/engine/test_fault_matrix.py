"""The fault matrix: create, update, read and delete against ten failures, through the engine.

Every cell ends either recovered, or in a clear error with state consistent with the server:
a failed create leaves nothing the next run cannot adopt, a failed update or delete keeps the
old state (the server unchanged), a failed read changes nothing. The table printed here is the
one in docs/RELIABILITY.md, and the test checks that they agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pulumi_d6.emulator.pytest_plugin import RunningEmulator
from pulumi_d6.testing.engine import EngineError, EngineStack, ProviderProcess, ResourceState

from ..dead_ends import StallingProxy

V2 = "/api/v2/settings/clientintegrations"
DOC = Path(__file__).resolve().parents[2] / "docs" / "RELIABILITY.md"
OPS = ("create", "update", "read", "delete")


@dataclass(frozen=True)
class FaultCase:
    label: str
    kind: str
    count: int = 1
    status: int = 503
    retry_after: str | None = None


FAULTS = (
    FaultCase("429 with Retry-After: 1", "status", status=429, retry_after="1"),
    FaultCase("503 twice (within the retry budget)", "status", count=2),
    FaultCase("503 beyond the retry budget", "status", count=10),
    FaultCase("500 once", "status", status=500),
    FaultCase("HTML 502 page", "html", status=502),
    FaultCase("malformed JSON (200)", "malformed_json"),
    FaultCase("empty body (200)", "empty_body"),
    FaultCase("read timeout", "stall"),  # never answered: the relay swallows it
    FaultCase("dropped connection", "drop"),
    FaultCase("401 bad credentials", "status", status=401),
)
RECOVERS = {"429 with Retry-After: 1", "503 twice (within the retry budget)", "500 once",
            "HTML 502 page", "read timeout", "dropped connection"}  # fmt: skip
ERROR_TEXT = {
    "503 beyond the retry budget": "HTTP 503",
    "malformed JSON (200)": "malformed JSON where JSON was expected",
    "empty body (200)": "empty body where JSON was expected",
    "401 bad credentials": "d6 rejected the integrator credentials",
}


def declared(school: int, **extra: Any) -> dict[str, Any]:
    return {"school_id": school, "api_type_id": 8, **extra}


class Cell:
    def __init__(
        self, emu: RunningEmulator, proxy: StallingProxy, stack: EngineStack, fault: FaultCase
    ) -> None:
        self.emu, self.proxy, self.stack, self.fault = emu, proxy, stack, fault

    def inject(self, method: str) -> None:
        f = self.fault
        if f.kind == "stall":
            self.proxy.stall(method, f.count)
            return
        self.emu.admin.inject(
            f.kind, route=V2, method=method, count=f.count, status=f.status,
            retry_after=f.retry_after,
        )  # fmt: skip

    def attempt(self, action: Callable[[], Any]) -> tuple[str, str]:
        stalled = self.proxy.stalled
        try:
            action()
        except EngineError as err:
            outcome, text = "error", err.details
        else:
            outcome, text = "recovered", ""
        if self.fault.kind == "stall":
            assert self.proxy.stalled == stalled + self.fault.count, "the fault was met"
        self.emu.admin.clear_faults()
        self.proxy.clear()
        return outcome, text

    def created(self, school: int) -> ResourceState:
        state = self.stack.up(f"s{school}", declared(school)).state
        assert state is not None
        return state

    def create(self) -> tuple[str, str]:
        self.inject("PATCH")
        holder: dict[str, Any] = {}
        outcome, text = self.attempt(
            lambda: holder.update(r=self.stack.up("s1000", declared(1000)))
        )
        if outcome == "recovered":
            assert holder["r"].state.outs["active"] is True
        else:  # nothing in state: the next run must be able to adopt whatever d6 has
            again = self.stack.up("s1000", declared(1000))
            assert again.state is not None
        assert self.emu.admin.is_active(1000, 8) is True
        return outcome, text

    def update(self) -> tuple[str, str]:
        state = self.created(1001)
        self.inject("PATCH")
        holder: dict[str, Any] = {}
        outcome, text = self.attempt(
            lambda: holder.update(r=self.stack.up("s1001", declared(1001, active=False), state))
        )
        if outcome == "recovered":
            assert holder["r"].state.outs["active"] is False
            assert self.emu.admin.is_active(1001, 8) is False
        else:  # the engine keeps the old state, d6 still matches it, and the next run converges
            assert self.emu.admin.is_active(1001, 8) is True
            again = self.stack.up("s1001", declared(1001, active=False), state)
            assert again.action == "update"
            assert again.state is not None
            assert again.state.outs["active"] is False
            assert self.emu.admin.is_active(1001, 8) is False
        return outcome, text

    def read(self) -> tuple[str, str]:
        state = self.created(1002)
        self.emu.admin.set_active(1002, 8, False)  # drift for the refresh to find
        self.inject("GET")
        holder: dict[str, Any] = {}
        outcome, text = self.attempt(lambda: holder.update(r=self.stack.refresh(state)))
        if outcome == "recovered":
            assert holder["r"].state.outs["active"] is False
            assert holder["r"].state.ins["active"] is False
        else:  # nothing changed: d6 untouched, and the next refresh still finds the drift
            assert self.emu.admin.is_active(1002, 8) is False
            again = self.stack.refresh(state)
            assert again.state is not None
            assert (again.state.outs["active"], again.state.ins["active"]) == (False, False)
        return outcome, text

    def delete(self) -> tuple[str, str]:
        state = self.created(1003)
        self.inject("PATCH")
        outcome, text = self.attempt(lambda: self.stack.destroy(state))
        expected_active = outcome == "error"  # a failed delete keeps the resource, and d6 agrees
        assert self.emu.admin.is_active(1003, 8) is expected_active
        return outcome, text


def markdown(results: dict[str, dict[str, str]]) -> str:
    lines = ["| fault | " + " | ".join(OPS) + " |", "|---|" + "---|" * len(OPS)]
    for fault, row in results.items():
        lines.append(f"| {fault} | " + " | ".join(row[op] for op in OPS) + " |")
    return "\n".join(lines)


@pytest.fixture
def proxy(d6_emulator: RunningEmulator) -> Iterator[StallingProxy]:
    """The provider reaches the emulator through a relay that can swallow requests."""
    with StallingProxy(("127.0.0.1", d6_emulator.server.port)) as relay:
        yield relay


def test_fault_matrix(d6_emulator: RunningEmulator, proxy: StallingProxy) -> None:
    config = d6_emulator.stack_config(
        **{"d6:maxRetries": "2", "d6:timeoutSeconds": "0.5", "d6:baseUrl": proxy.base_url}
    )
    results: dict[str, dict[str, str]] = {}
    for fault in FAULTS:
        d6_emulator.admin.reset(seed=4)
        with ProviderProcess(config) as process:
            cell = Cell(d6_emulator, proxy, EngineStack(process), fault)
            row: dict[str, str] = {}
            for op in OPS:
                outcome, text = getattr(cell, op)()
                if fault.label in RECOVERS:
                    assert outcome == "recovered", f"{fault.label} / {op}: {text}"
                else:
                    assert outcome == "error", f"{fault.label} / {op} should fail clearly"
                    assert ERROR_TEXT[fault.label] in text, text
                    last_line = text.strip().splitlines()[-1]
                    assert last_line.startswith("pulumi_d6.errors."), "one clear final line"
                row[op] = "recovered" if outcome == "recovered" else "clear error, state consistent"
            results[fault.label] = row
            assert d6_emulator.password not in process.output
    table = markdown(results)
    print("\n" + table)
    documented = re.search(
        r"<!-- fault-matrix -->\n(.*?)\n<!-- /fault-matrix -->", DOC.read_text(), re.S
    )
    assert documented is not None, "docs/RELIABILITY.md has the fault-matrix table"
    assert documented.group(1).strip() == table, "docs/RELIABILITY.md shows this run's table"


@pytest.mark.parametrize("fault", FAULTS, ids=[f.label for f in FAULTS])
def test_every_fault_has_an_expectation(fault: FaultCase) -> None:
    assert (fault.label in RECOVERS) != (fault.label in ERROR_TEXT)
