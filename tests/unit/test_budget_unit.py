"""DeactivationBudget on its own: exact under contention, give-back, and the README's message."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from pulumi_d6.budget import DeactivationBudget, DeactivationRefused
from pulumi_d6.settings import resolve_settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_the_refusal_is_the_one_the_readme_shows() -> None:
    budget = DeactivationBudget.of(resolve_settings(env={"D6_USERNAME": "u", "D6_PASSWORD": "p"}))
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


@pytest.mark.parametrize(
    ("config", "env", "set_by", "raise_it"),
    [
        (
            {"d6:maxDeactivations": "2"},
            {"D6_MAX_DEACTIVATIONS": "7"},
            "the limit set by stack config d6:maxDeactivations = 2.",
            "raise it in the stack file: pulumi config set d6:maxDeactivations 50.",
        ),
        (
            {},
            {"D6_MAX_DEACTIVATIONS": "2"},
            "the limit set by the environment variable D6_MAX_DEACTIVATIONS=2.",
            "raise it where that variable is set: D6_MAX_DEACTIVATIONS=50.",
        ),
        (
            {},
            {},
            "the limit set by the default of d6:maxDeactivations (10).",
            "raise it in the stack file: pulumi config set d6:maxDeactivations 50.",
        ),
        (
            {"d6:maxDeactivations": "20"},
            {},
            "the limit set by stack config d6:maxDeactivations = 20.",
            "pulumi config set d6:maxDeactivations 100.",
        ),
    ],
)
def test_the_refusal_names_the_source_in_force_and_how_to_change_it_there(
    config: dict[str, str], env: dict[str, str], set_by: str, raise_it: str
) -> None:
    settings = resolve_settings(config=config, env={"D6_USERNAME": "u", "D6_PASSWORD": "p", **env})
    budget = DeactivationBudget.of(settings)
    assert budget.limit is not None
    for school in range(budget.limit):
        budget.take(school + 1, 8)
    with pytest.raises(DeactivationRefused) as refused:
        budget.take(9999, 8)
    message = str(refused.value)
    assert set_by in message
    assert raise_it in message
    if "d6:maxDeactivations" in config:
        assert "D6_MAX_DEACTIVATIONS" not in message, "the stack file's value is what is in force"


def test_a_budget_of_zero_says_it_allows_none() -> None:
    settings = resolve_settings(
        config={"d6:maxDeactivations": "0"}, env={"D6_USERNAME": "u", "D6_PASSWORD": "p"}
    )
    with pytest.raises(DeactivationRefused) as refused:
        DeactivationBudget.of(settings).take(1000, 8)
    assert "this run allows no deactivations, the limit set by stack config" in str(refused.value)
