"""The deactivation budget's refusal, word for word, for each place the limit can come from."""

from __future__ import annotations

import pytest

from pulumi_d6.budget import DeactivationBudget, DeactivationRefused
from pulumi_d6.settings import resolve_settings

TAIL = "The resource stays in state until then."


def budget_from(config: dict[str, str], env: dict[str, str]) -> DeactivationBudget:
    credentials = {"d6:username": "u", "d6:password": "p-1"}
    return DeactivationBudget.of(resolve_settings(config={**credentials, **config}, env=env))


def refusal(budget: DeactivationBudget) -> str:
    """Spend the budget, then the text of the first refusal (nothing sent for it)."""
    school = 1000
    while True:
        try:
            budget.take(school, 8)
        except DeactivationRefused as exc:
            return str(exc)
        school += 1


@pytest.mark.parametrize(
    ("config", "env", "expected"),
    [
        (
            {},
            {},
            "refusing to deactivate school 1010 / API type 8: this run has already deactivated "
            "10 integration(s), the limit set by the default of d6:maxDeactivations (10). If this "
            "is intended, raise it in the stack file: pulumi config set d6:maxDeactivations 50. "
            f"{TAIL}",
        ),
        (
            {},
            {"D6_MAX_DEACTIVATIONS": "3"},
            "refusing to deactivate school 1003 / API type 8: this run has already deactivated "
            "3 integration(s), the limit set by the environment variable D6_MAX_DEACTIVATIONS=3. "
            "If this is intended, raise it where that variable is set: D6_MAX_DEACTIVATIONS=50. "
            f"{TAIL}",
        ),
        (
            {"d6:maxDeactivations": "20"},
            {"D6_MAX_DEACTIVATIONS": "3"},
            "refusing to deactivate school 1020 / API type 8: this run has already deactivated "
            "20 integration(s), the limit set by stack config d6:maxDeactivations = 20. If this "
            "is intended, raise it in the stack file: pulumi config set d6:maxDeactivations 100. "
            f"{TAIL}",
        ),
        (
            {"d6:maxDeactivations": "0"},
            {},
            "refusing to deactivate school 1000 / API type 8: this run allows no deactivations, "
            "the limit set by stack config d6:maxDeactivations = 0. If this is intended, raise it "
            f"in the stack file: pulumi config set d6:maxDeactivations 50. {TAIL}",
        ),
    ],
    ids=["default", "environment", "stack config wins", "zero"],
)
def test_the_refusal_names_the_limit_in_force_and_how_to_raise_it(
    config: dict[str, str], env: dict[str, str], expected: str
) -> None:
    budget = budget_from(config, env)
    assert refusal(budget) == expected
    assert budget.used == budget.limit, "the refused call took nothing"


def test_giving_back_more_than_was_taken_never_makes_room_for_extra() -> None:
    budget = DeactivationBudget(1)
    budget.give_back()
    budget.take(1000, 8)
    with pytest.raises(DeactivationRefused):
        budget.take(1001, 8)
    assert budget.used == 1


def test_a_unit_given_back_is_taken_again_once() -> None:
    budget = DeactivationBudget(2)
    budget.take(1000, 8)
    budget.take(1001, 8)
    budget.give_back()
    assert budget.used == 1
    budget.take(1002, 8)
    with pytest.raises(DeactivationRefused, match="already deactivated 2 integration"):
        budget.take(1003, 8)
