"""DeactivationBudget on its own: exact under contention, give-back, and the README's message."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from pulumi_d6.budget import DeactivationBudget, DeactivationRefused
from pulumi_d6.settings import resolve_settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_the_refusal_is_the_one_the_readme_shows() -> None:
    budget = DeactivationBudget(10)
    for school in range(1001, 1011):
        budget.take(school, 8)
    with pytest.raises(DeactivationRefused) as refused:
        budget.take(1011, 8)
    assert str(refused.value) in README


def test_exact_under_many_threads() -> None:
    budget = DeactivationBudget(37)
    refused: list[int] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for i in range(50):
            try:
                budget.take(n, i)
            except DeactivationRefused:
                with lock:
                    refused.append(n)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert budget.used == 37
    assert len(refused) == 8 * 50 - 37


def test_give_back_frees_a_unit() -> None:
    budget = DeactivationBudget(1)
    budget.take(1, 8)
    budget.give_back()
    budget.take(2, 8)
    assert budget.used == 1


def test_unlimited_and_the_setting() -> None:
    env = {"D6_USERNAME": "u", "D6_PASSWORD": "p-123", "D6_MAX_DEACTIVATIONS": "unlimited"}
    budget = DeactivationBudget.of(resolve_settings(env=env))
    assert budget.limit is None
    for i in range(1000):
        budget.take(i + 1, 8)
    default = DeactivationBudget.of(resolve_settings(env={"D6_USERNAME": "u", "D6_PASSWORD": "p"}))
    assert (default.limit, default.source) == (10, "default")
