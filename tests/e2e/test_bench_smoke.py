"""`make bench` keeps working: a tiny run prints its table and writes its JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.bench import main


def test_bench_runs_small(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    args = ["--sizes", "20", "--rate-limit-n", "10", "--latency-n", "8", "--latency-ms", "20"]
    args += ["--drift-total", "120"]
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| create | 20 | 20 |" in printed
    assert "| no-op up (check + diff) | 20 | 0 |" in printed
    data = json.loads(out.read_text())
    rows = {r["scenario"]: r for r in data["rows"]}
    assert rows["no-op up (check + diff)"]["requests"] == 0
    assert rows["refresh (bulk reads)"]["requests"] <= 8 + 1
    assert data["facts"]["rate_limit_failures_retries"] == 0
    assert "| create at 20 ms latency | 8 | 8 |" in printed
    assert "| baseline: sequential script at 20 ms latency | 8 | 8 |" in printed
    assert data["facts"]["wan_create_fraction_of_limit"] > 0
    assert data["facts"]["drift_requests"] == 3, "ceil(120 / 50)"
