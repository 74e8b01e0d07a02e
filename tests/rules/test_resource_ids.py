"""Resource ids read back from state: exactly "<school_id>/<api_type_id>", bounded, or refused.

The id in state can be hand-edited; whatever it holds must never reach d6 unless it names one
integration, and the refusal says what was wrong.
"""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_d6.errors import InvalidValueError
from pulumi_d6.models import TOO_LARGE, parse_resource_id

LARGEST = 2**53 - 1
EXPECTED = "expected '<school_id>/<api_type_id>', e.g. '1000/8'"


@pytest.mark.parametrize(
    ("id_", "parsed"),
    [
        ("1000/8", (1000, 8)),
        (f"{LARGEST}/{LARGEST}", (LARGEST, LARGEST)),  # the longest id that can be valid
        ("0" * 20 + "1000/8", (1000, 8)),
    ],
)
def test_valid_ids(id_: str, parsed: tuple[int, int]) -> None:
    assert parse_resource_id(id_) == parsed


@pytest.mark.parametrize(
    ("id_", "reason"),
    [
        ("a/b", ""),
        ("\u0661/8", ""),  # an Arabic-Indic digit one: isdigit(), but not ASCII
        ("1000/8/1", ""),
        ("1000//8", ""),
        (" 1000/8", ""),
        ("0" * 30 + "1000/8", ""),  # longer than any valid id: refused before parsing
        (f"0{LARGEST}/{LARGEST}", ""),  # one character too long, though its numbers are valid
        (1000, ""),
        (None, ""),
        ("0/8", ": school_id must be a whole number greater than 0, got '0'"),
        ("1000/0", ": api_type_id must be a whole number greater than 0, got '0'"),
        (
            f"{2**53}/8",
            ": school_id must be a whole number greater than 0 and below 2**53, got "
            f"'{2**53}': {TOO_LARGE}",
        ),
        (
            f"1000/{2**53}",
            ": api_type_id must be a whole number greater than 0 and below 2**53, got "
            f"'{2**53}': {TOO_LARGE}",
        ),
    ],
)
def test_invalid_ids_are_refused_saying_why(id_: Any, reason: str) -> None:
    with pytest.raises(InvalidValueError) as err:
        parse_resource_id(id_)
    assert str(err.value) == f"invalid ClientIntegration id {id_!r}: {EXPECTED}{reason}"
