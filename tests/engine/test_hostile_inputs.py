"""Hostile and odd inputs through the engine protocol: each gets a clean answer, none reaches d6.

Ids beyond what the engine can carry, digit strings long enough to crash ``int()``, values large
enough to break gRPC metadata, credentials that cannot be HTTP headers, and a base URL carrying a
password. Every refusal must be a ``CheckFailure`` or one short line from pulumi_d6's own error
types, with no foreign exception in the traceback the engine shows, and no secret in any form.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest

from pulumi_d6.emulator.pytest_plugin import RunningEmulator
from pulumi_d6.testing.engine import (
    CheckFailed,
    EngineError,
    EngineStack,
    to_struct,
)

from .conftest import ProcessFactory

TYPE_ROOT = "urn:pulumi:dev::d6-integrations::pulumi-python:dynamic/d6:ClientIntegration::"
FOREIGN = ("ValueError", "UnicodeEncodeError", "UnicodeError", "requests.exceptions", "urllib3")
MAX_MESSAGE = 600


@pytest.fixture
def d6_emulator(d6_emulator_factory: Callable[..., RunningEmulator]) -> RunningEmulator:
    """An emulator of this test's own: its request log sees no other test's late requests."""
    return d6_emulator_factory()


def config_for(emu: RunningEmulator, **extra: str) -> dict[str, str]:
    return {**emu.stack_config(), "d6:maxRetries": "0", **extra}


def with_value_from(
    emu: RunningEmulator, source: str, stack_key: str, value: str
) -> tuple[dict[str, str], dict[str, str]]:
    """(stack config, environment) with ``value`` given for one setting by ``source``, a
    stack key (``d6:password``) or a variable (``D6_PASSWORD``)."""
    config = config_for(emu)
    if source == stack_key:
        return {**config, stack_key: value}, {}
    del config[stack_key]
    return config, {source: value}


def message_of(error: EngineError) -> str:
    """The last line of the traceback the engine shows: the error itself."""
    return error.details.strip().splitlines()[-1]


def assert_clean(error: EngineError, *secrets: str) -> str:
    """One short line from pulumi_d6's errors; nothing foreign, no secret in any form."""
    details = error.details
    for name in FOREIGN:
        assert name not in details, details
    last = message_of(error)
    assert last.startswith("pulumi_d6.errors."), last
    assert len(last) <= MAX_MESSAGE + 60, len(last)
    for secret in secrets:
        for form in (secret, quote(secret, safe=""), base64.b64encode(secret.encode()).decode()):
            assert form not in details
    return last


# ------------------------------------------------------------------ ids


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2**53 + 1, "below 2**53, got 9007199254740992: ids from 2**53"),  # arrives as 2**53
        (2**63, "below 2**53, got 9223372036854775808"),
        (1e300, "below 2**53, got an integer of about 301 digits"),
        ("9" * 30, "below 2**53, got '999999999999999999999999999999'"),
        ("1" * 5000, "below 2**53, got '11111111111111111111111111111111111111…"),
        ("x" * 200_000, "greater than 0, got 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…"),
    ],
)
def test_ids_the_engine_cannot_carry_fail_check(
    process_factory: ProcessFactory, d6_emulator: RunningEmulator, value: Any, expected: str
) -> None:
    stack = EngineStack(process_factory(config_for(d6_emulator)))
    with pytest.raises(CheckFailed) as failed:
        stack.up("big", {"school_id": value, "api_type_id": 8})
    [(field, reason)] = failed.value.failures
    assert field == "school_id"
    assert expected in reason
    assert len(reason) <= 400
    assert d6_emulator.admin.count() == 0


def test_the_largest_exact_id_is_accepted(
    process_factory: ProcessFactory, d6_emulator: RunningEmulator
) -> None:
    stack = EngineStack(process_factory(config_for(d6_emulator)))
    preview = stack.preview("edge", {"school_id": 2**53 - 1, "api_type_id": 8})
    assert preview.action == "create"


HOSTILE_IDS = [
    "999999999999999999999999999999/8",
    "1" * 5000 + "/8",
    "8/" + "1" * 100_000,
    "9007199254740992/8",
    "1000/8/" + "x" * 100_000,
]


@pytest.mark.parametrize("id_", HOSTILE_IDS)
def test_delete_of_a_hostile_id_never_calls_d6(
    process_factory: ProcessFactory, d6_emulator: RunningEmulator, id_: str
) -> None:
    process = process_factory(config_for(d6_emulator))
    state = to_struct(process.with_provider({"school_id": 1000, "api_type_id": 8, "active": True}))
    with pytest.raises(EngineError) as failed:
        process.delete(TYPE_ROOT + "x", id_, state, state)
    last = assert_clean(failed.value)
    assert "invalid ClientIntegration id" in last
    assert "expected '<school_id>/<api_type_id>'" in last
    assert d6_emulator.admin.count() == 0


@pytest.mark.parametrize("id_", HOSTILE_IDS)
def test_read_of_a_hostile_id_is_a_clear_error(
    process_factory: ProcessFactory, d6_emulator: RunningEmulator, id_: str
) -> None:
    process = process_factory(config_for(d6_emulator))
    state = to_struct(process.with_provider({"school_id": 1000, "api_type_id": 8, "active": True}))
    with pytest.raises(EngineError) as failed:
        process.read(TYPE_ROOT + "x", id_, state, state)
    assert "invalid ClientIntegration id" in assert_clean(failed.value)
    assert d6_emulator.admin.count() == 0


def test_a_hostile_state_with_a_good_id_uses_the_id(
    process_factory: ProcessFactory, d6_emulator: RunningEmulator
) -> None:
    """State written by hand: the id names the integration, never an unbounded state field."""
    d6_emulator.admin.authorise(1000, 8, active=True)
    process = process_factory(config_for(d6_emulator))
    hostile = {"school_id": "9" * 5000, "api_type_id": 1e300, "active": True}
    state = to_struct(process.with_provider(hostile))
    process.delete(TYPE_ROOT + "x", "1000/8", state, state)
    assert d6_emulator.admin.is_active(1000, 8) is False


# ----------------------------------------------------------- credentials


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        (" Lead-Space-Pw", "starts with white space"),
        ("Trailing-Newline-Pw\n", "ends with a newline: was it pasted with one?"),
        ("Trailing-Space-Pw ", "ends with white space"),
        ("Tab\tInside-Pw", "contains a control character"),
        ("Euro-Sign-€-Pw", "contains a character outside Latin-1"),
    ],
)
@pytest.mark.parametrize("source", ["D6_PASSWORD", "d6:password"])
def test_a_password_that_cannot_be_a_header_is_refused_by_name(
    process_factory: ProcessFactory,
    d6_emulator: RunningEmulator,
    password: str,
    reason: str,
    source: str,
) -> None:
    process = process_factory(*with_value_from(d6_emulator, source, "d6:password", password))
    with pytest.raises(EngineError) as failed:
        EngineStack(process).up("a", {"school_id": 1000, "api_type_id": 8})
    last = assert_clean(failed.value, password, password.strip())
    assert "SettingsError" in last
    assert f"{source} {reason}" in last
    assert "could not reach" not in last
    assert d6_emulator.admin.count() == 0
    process.close()
    assert password.strip() not in process.output


def test_a_username_that_cannot_be_a_header_is_refused_by_name(
    process_factory: ProcessFactory, d6_emulator: RunningEmulator
) -> None:
    process = process_factory(config_for(d6_emulator, **{"d6:username": "demo\r\nX-Injected: 1"}))
    with pytest.raises(EngineError) as failed:
        EngineStack(process).up("a", {"school_id": 1000, "api_type_id": 8})
    last = assert_clean(failed.value, "X-Injected")
    assert "d6:username contains a control character" in last
    assert d6_emulator.admin.count() == 0


@pytest.mark.parametrize("source", ["D6_BASE_URL", "d6:baseUrl"])
@pytest.mark.parametrize(
    "url",
    [
        "http://user:Url-Secret-Pw@127.0.0.1:8787/api",
        "http://user:Url-Secret-Pw@127.0.0.1:8787/api?x=1",
        "ftp://user:Url-Secret-Pw@127.0.0.1/api",
        "https://user:Url-Secret-Pw@d6.example/api/v2",
        "http://Url-Secret-Pw@[::1",
    ],
)
def test_a_base_url_with_credentials_is_refused_without_echoing_them(
    process_factory: ProcessFactory, d6_emulator: RunningEmulator, url: str, source: str
) -> None:
    process = process_factory(*with_value_from(d6_emulator, source, "d6:baseUrl", url))
    with pytest.raises(EngineError) as failed:
        EngineStack(process).up("a", {"school_id": 1000, "api_type_id": 8})
    last = assert_clean(failed.value, "Url-Secret-Pw")
    assert source in last
    assert "user:" not in last
    process.close()
    assert "Url-Secret-Pw" not in process.output
