"""d6's listing records: ids and activated_by_integrator read strictly, refusals that say why."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from pulumi_d6.models import TOO_LARGE, ClientIntegrationInfo

from .fake_d6 import record


def parsed(**fields: Any) -> ClientIntegrationInfo:
    return ClientIntegrationInfo.model_validate({**record(1000), **fields})


@pytest.mark.parametrize(
    ("value", "active"),
    [
        ("Yes", True),
        ("No", False),
        (" yes ", True),
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("false", False),
        ("0", False),
        (1, True),
        (0, False),
        (True, True),
        (False, False),
    ],
)
def test_activated_by_integrator(value: Any, active: bool) -> None:
    assert parsed(activated_by_integrator=value).active is active


@pytest.mark.parametrize("value", [2, -1, "maybe", None, 1.0])
def test_activated_by_integrator_that_is_not_yes_or_no(value: Any) -> None:
    with pytest.raises(ValidationError, match=f"expected 'Yes' or 'No', got {value!r}"):
        parsed(activated_by_integrator=value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "expected an integer id, got 'abc'"),
        (1.5, "expected an integer id, got 1.5"),
        (2**53, f"id {2**53} is not below 2**53: {TOO_LARGE}"),
        (str(2**53), f"id '{2**53}' is not below 2**53: {TOO_LARGE}"),
    ],
)
def test_ids_d6_sends_that_cannot_be_carried(value: Any, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        parsed(school_id=value)
    assert message in str(err.value)


def test_the_largest_id_is_accepted_from_a_string() -> None:
    assert parsed(school_id=str(2**53 - 1)).school_id == 2**53 - 1
