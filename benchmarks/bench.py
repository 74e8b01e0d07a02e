"""`make bench`: request counts and timings through the engine protocol against the emulator.

Everything goes the way a `pulumi` run goes: a `python -m pulumi.dynamic` process driven over
gRPC, four calls in flight, against the emulator running as its own process (the CLI). Printed
as a table and written as JSON. ``--full`` adds N = 5,000.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

import requests

from pulumi_d6.client import D6Client
from pulumi_d6.settings import resolve_settings
from pulumi_d6.testing.engine import EngineStack, ProviderProcess, ResourceState
from pulumi_d6.testing.processes import EmulatorProcess

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
AUTH = {"HTTP-X-USERNAME": "demo", "HTTP-X-PASSWORD": "demo"}
V2 = "/api/v2/settings/clientintegrations"
PAGE = 50


@dataclass
class Row:
    scenario: str
    n: int
    requests: int
    seconds: float
    note: str = ""

    @property
    def per_second(self) -> float:
        return self.n / self.seconds if self.seconds else 0.0


@dataclass
class Report:
    date: str
    machine: str
    rows: list[Row] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


class Emulator(EmulatorProcess):
    """`pulumi-d6 emulator` in its own process, as a user runs it."""

    def config(self, **extra: str) -> dict[str, str]:
        """Stack config for a benchmark: deleting N on purpose, so no deactivation budget."""
        return {**self.stack_config(), "d6:maxDeactivations": "unlimited", **extra}


def keys_for(n: int) -> list[tuple[int, int]]:
    return [(1000 + i // 2, 8 + i % 2) for i in range(n)]


def in_flight(fn: Callable[[Any], Any], items: Iterable[Any], workers: int = 4) -> list[Any]:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, items))


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def lifecycle(report: Report, emu: Emulator, n: int) -> None:
    """Create, no-op, refresh and delete of N resources among T = N authorised integrations."""
    emu.admin.reset(seed=math.ceil(n / 2))
    process = ProviderProcess(emu.config())
    stack = EngineStack(process)
    keys = keys_for(n)
    try:

        def create(key: tuple[int, int]) -> ResourceState:
            state = stack.up(
                f"s-{key[0]}-{key[1]}", {"school_id": key[0], "api_type_id": key[1]}
            ).state
            assert state is not None
            return state

        emu.admin.clear_requests()
        states, seconds = timed(lambda: in_flight(create, keys))
        report.rows.append(Row("create", n, emu.admin.count(), seconds))

        def same(pair: tuple[tuple[int, int], ResourceState]) -> str:
            key, state = pair
            return stack.up(
                f"s-{key[0]}-{key[1]}", {"school_id": key[0], "api_type_id": key[1]}, state
            ).action

        emu.admin.clear_requests()
        actions, seconds = timed(lambda: in_flight(same, list(zip(keys, states, strict=True))))
        assert set(actions) == {"same"}
        report.rows.append(Row("no-op up (check + diff)", n, emu.admin.count(), seconds))

        emu.admin.clear_requests()
        refreshed, seconds = timed(lambda: in_flight(stack.refresh, states))
        assert all(r.state is not None and r.state.outs["active"] for r in refreshed)
        bound = min(n, math.ceil(n / PAGE) + 8)
        report.rows.append(
            Row("refresh (bulk reads)", n, emu.admin.count(), seconds, f"goal <= {bound}")
        )

        emu.admin.clear_requests()
        _, seconds = timed(lambda: in_flight(stack.destroy, [r.state for r in refreshed]))
        report.rows.append(Row("delete", n, emu.admin.count(), seconds))
        report.facts[f"provider_peak_rss_mb_n{n}"] = round(peak_rss_mb(process.proc.pid), 1)
    finally:
        process.close()


def exclusive_adopt(report: Report, emu: Emulator, n: int) -> None:
    """Exclusive mode's first run where all N are inactive: N creates with ``active: false``,
    each reading the live state through the bulk reader; none needs a change request."""
    emu.admin.reset(seed=math.ceil(n / 2))
    process = ProviderProcess(emu.config())
    stack = EngineStack(process)
    try:

        def adopt(key: tuple[int, int]) -> None:
            props = {"school_id": key[0], "api_type_id": key[1], "active": False}
            stack.up(f"x-{key[0]}-{key[1]}", {**props, "deactivate_on_destroy": False})

        emu.admin.clear_requests()
        _, seconds = timed(lambda: in_flight(adopt, keys_for(n)))
        bound = min(n, math.ceil(n / PAGE) + 8)
        report.rows.append(
            Row(
                "exclusive adopt (inactive creates)",
                n,
                emu.admin.count(),
                seconds,
                f"goal <= {bound}",
            )
        )
    finally:
        process.close()


def refresh_three_of_many(report: Report, emu: Emulator, total: int) -> None:
    emu.admin.reset(seed=math.ceil(total / 2))
    process = ProviderProcess(emu.config())
    stack = EngineStack(process)
    try:
        states = [
            stack.up(f"s-{s}-{t}", {"school_id": s, "api_type_id": t}).state for s, t in keys_for(3)
        ]
        emu.admin.clear_requests()
        _, seconds = timed(lambda: in_flight(stack.refresh, states))
        report.rows.append(
            Row(f"refresh 3 of T={total}", 3, emu.admin.count(), seconds, "goal <= 3")
        )
    finally:
        process.close()


def baselines(report: Report, emu: Emulator, n: int) -> None:
    """The scripts integrators write today: a PATCH per school per run; a GET per resource."""
    emu.admin.reset(seed=math.ceil(n / 2))
    session = requests.Session()
    url = emu.base_url + "/v2/settings/clientintegrations"

    def naive_run() -> None:  # the d6 docs' sample, in a loop over every school
        for s, t in keys_for(n):
            session.patch(
                url, headers=AUTH, json={"school_id": s, "api_type_id": t, "state": 1}, timeout=30
            )

    naive_run()  # first run activates
    emu.admin.clear_requests()
    _, seconds = timed(naive_run)  # a run with nothing to change still costs N requests
    report.rows.append(
        Row("baseline: naive script, run with no change", n, emu.admin.count(), seconds)
    )

    client = D6Client(
        resolve_settings({"username": "demo", "password": "demo", "base_url": emu.base_url})
    )
    emu.admin.clear_requests()
    _, seconds = timed(lambda: in_flight(lambda k: client.get_integration(*k), keys_for(n)))
    report.rows.append(
        Row("baseline: refresh reading each resource", n, emu.admin.count(), seconds)
    )


def create_overhead(report: Report, emu: Emulator, samples: int = 200) -> None:
    """Median engine-path Create RPC vs the median raw requests PATCH, same emulator, same run."""
    emu.admin.reset(seed=samples)
    process = ProviderProcess(emu.config())
    stack = EngineStack(process)
    session = requests.Session()
    url = emu.base_url + "/v2/settings/clientintegrations"
    try:
        checked = [
            stack.process.check(
                stack.urn(f"o-{i}"), {}, {"school_id": 1000 + i, "api_type_id": 8}
            ).inputs
            for i in range(samples)
        ]
        stack.process.create(stack.urn("warm"), checked[0])
        session.patch(
            url, headers=AUTH, json={"school_id": 1000, "api_type_id": 9, "state": True}, timeout=30
        )
        engine, raw = [], []
        for i in range(1, samples):
            start = time.perf_counter()
            stack.process.create(stack.urn(f"o-{i}"), checked[i])
            engine.append(time.perf_counter() - start)
            start = time.perf_counter()
            body = {"school_id": 1000 + i, "api_type_id": 9, "state": True}
            assert session.patch(url, headers=AUTH, json=body, timeout=30).status_code == 200
            raw.append(time.perf_counter() - start)
    finally:
        process.close()
    engine_ms, raw_ms = statistics.median(engine) * 1000, statistics.median(raw) * 1000
    report.facts["create_median_ms_engine"] = round(engine_ms, 2)
    report.facts["create_median_ms_raw_patch"] = round(raw_ms, 2)
    report.facts["create_engine_over_raw"] = round(engine_ms / raw_ms, 2)


def rate_limited(report: Report, limit: float = 20.0, n: int = 200) -> None:
    """Throughput against `--rate-limit 20`: retries honour Retry-After; 0 failures expected."""
    variants: list[tuple[str, str, dict[str, str]]] = [("retries only", "retries", {})]
    variants.append(("with d6:requestsPerSecond=20", "throttled", {"d6:requestsPerSecond": "20"}))
    keys = [(1000 + i, 8) for i in range(n)]
    for label, key, extra in variants:
        emu = Emulator("--seed", str(n), "--rate-limit", str(limit))
        process = ProviderProcess(emu.config(**extra))
        stack = EngineStack(process)
        try:
            time.sleep(1.1)  # let the bucket fill after the admin calls
            start = time.perf_counter()
            outcomes = in_flight(partial(_create_or_fail, stack), keys)
            seconds = time.perf_counter() - start
            limited = emu.admin.count(status=429)
        finally:
            process.close()
            emu.stop()
        failures = outcomes.count(False)
        rate = n / seconds
        note = f"{rate:.1f}/s = {rate / limit:.2f} of limit, {limited} x 429, {failures} failed"
        report.rows.append(
            Row(f"create at --rate-limit 20 ({label})", n, n + limited, seconds, note)
        )
        report.facts[f"rate_limit_fraction_{key}"] = round(rate / limit, 2)
        report.facts[f"rate_limit_failures_{key}"] = failures


ENGINE_PARALLELISM = 4  # the dynamic provider's gRPC server serves 4 engine calls at a time


def wan_latency(report: Report, n: int = 200, latency_ms: float = 50.0) -> None:
    """The emulator answering after a WAN round trip (`--latency-ms`): how close create, delete
    and refresh come to the physical limit, and the sequential script integrators write today.

    N state changes cannot take less than N x latency / 4 (4 calls in flight, one round trip
    each); the fraction reported is that limit over the measured time (1.0 = at the limit).
    """
    emu = Emulator("--seed", str(math.ceil(n / 2)), "--latency-ms", f"{latency_ms:g}")
    limit = n * latency_ms / 1000 / ENGINE_PARALLELISM
    tag = f"at {latency_ms:g} ms latency"
    try:
        with ProviderProcess(emu.config()) as process:
            stack = EngineStack(process)

            def create(key: tuple[int, int]) -> ResourceState:
                result = stack.up(
                    f"w-{key[0]}-{key[1]}", {"school_id": key[0], "api_type_id": key[1]}
                )
                assert result.state is not None
                return result.state

            keys = keys_for(n)
            emu.admin.clear_requests()
            states, seconds = timed(lambda: in_flight(create, keys))
            _latency_row(report, f"create {tag}", n, emu.admin.count(), seconds, limit, "create")
            emu.admin.clear_requests()
            refreshed, seconds = timed(lambda: in_flight(stack.refresh, states))
            assert all(r.state is not None for r in refreshed)
            _latency_row(report, f"refresh {tag}", n, emu.admin.count(), seconds, limit, "refresh")
            emu.admin.clear_requests()
            _, seconds = timed(lambda: in_flight(stack.destroy, states))
            _latency_row(report, f"delete {tag}", n, emu.admin.count(), seconds, limit, "delete")
        session = requests.Session()
        url = emu.base_url + "/v2/settings/clientintegrations"
        emu.admin.clear_requests()

        def script() -> None:  # one PATCH after another, as the d6 docs' sample in a loop
            for s, t in keys:
                body = {"school_id": s, "api_type_id": t, "state": True}
                session.patch(url, headers=AUTH, json=body, timeout=30)

        _, seconds = timed(script)
        report.rows.append(Row(f"baseline: sequential script {tag}", n, emu.admin.count(), seconds))
        report.facts["wan_sequential_script_seconds"] = round(seconds, 2)

        def raw(key: tuple[int, int]) -> None:  # the ceiling on this machine: bare PATCHes
            body = {"school_id": key[0], "api_type_id": key[1], "state": False}
            requests.patch(url, headers=AUTH, json=body, timeout=30)

        emu.admin.clear_requests()
        _, seconds = timed(lambda: in_flight(raw, keys))
        _latency_row(report, f"ceiling: raw PATCH, 4 in flight, {tag}", n, n, seconds, limit, "raw")
    finally:
        emu.stop()


def drift_listing(report: Report, total: int = 5000) -> None:
    """`pulumi-d6 drift` as a user runs it, against T authorised integrations: one full listing,
    goal ceil(T / max_allowed_limit) requests."""
    emu = Emulator("--seed", str(math.ceil(total / 2)))
    try:
        env = {**os.environ, "D6_USERNAME": "demo", "D6_PASSWORD": "demo"}
        env["D6_BASE_URL"] = emu.base_url
        export = json.dumps({"version": 3, "deployment": {"resources": []}})
        command = [sys.executable, "-m", "pulumi_d6.cli", "drift", "--state", "-"]
        emu.admin.clear_requests()
        done, seconds = timed(
            lambda: subprocess.run(
                [*command, "--format", "json"],
                input=export,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
        )
        onboarding = len(json.loads(done.stdout)["onboarding"])
        goal = math.ceil(total / PAGE)
        note = f"goal {goal}; {onboarding} in the onboarding queue"
        report.rows.append(Row("drift (one full listing)", total, emu.admin.count(), seconds, note))
        report.facts["drift_requests"] = emu.admin.count()
    finally:
        emu.stop()


def _latency_row(
    report: Report, scenario: str, n: int, requests_: int, seconds: float, limit: float, key: str
) -> None:
    fraction = limit / seconds if seconds else 0.0
    note = f"limit {limit:.2f} s (N x latency / 4): {fraction:.2f} of the limit"
    report.rows.append(Row(scenario, n, requests_, seconds, note))
    report.facts[f"wan_{key}_fraction_of_limit"] = round(fraction, 2)


def _create_or_fail(stack: EngineStack, key: tuple[int, int]) -> bool:
    try:
        stack.up(f"r-{key[0]}", {"school_id": key[0], "api_type_id": key[1]})
    except Exception:
        return False
    return True


def render(report: Report) -> str:
    lines = [
        f"pulumi-d6 benchmarks, {report.date}, {report.machine}",
        "",
        "| scenario | N | requests | seconds | per second | note |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in report.rows:
        cells = (r.scenario, r.n, r.requests, f"{r.seconds:.2f}", f"{r.per_second:.0f}", r.note)
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    lines.append("")
    for key, value in report.facts.items():
        lines.append(f"- {key}: {value}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--full", action="store_true", help="also run N = 5,000 (default 100-2,000)"
    )
    parser.add_argument("--sizes", type=int, nargs="*", help="override the N values")
    parser.add_argument("--rate-limit-n", type=int, default=200, help="creates at --rate-limit 20")
    parser.add_argument("--drift-total", type=int, default=5000, help="T for the drift listing")
    parser.add_argument("--latency-n", type=int, default=200, help="N of the WAN latency scenario")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="emulator latency for it")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json", help="JSON output")
    args = parser.parse_args(argv)
    sizes = args.sizes or ([100, 1000, 2000, 5000] if args.full else [100, 1000, 2000])
    python = f"{platform.python_implementation()} {platform.python_version()}"
    machine = f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {python}"
    report = Report(datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), machine)
    emu = Emulator()
    try:
        for n in sizes:
            lifecycle(report, emu, n)
            exclusive_adopt(report, emu, n)
            baselines(report, emu, n)
        refresh_three_of_many(report, emu, 2000 if max(sizes) >= 2000 else max(sizes))
        create_overhead(report, emu)
    finally:
        emu.stop()
    rate_limited(report, n=args.rate_limit_n)
    wan_latency(report, n=args.latency_n, latency_ms=args.latency_ms)
    drift_listing(report, total=args.drift_total)
    text = render(report)
    print(text)
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({**asdict(report), "rows": [asdict(r) for r in report.rows]}, indent=2)
    )
    print(f"\nwritten: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
