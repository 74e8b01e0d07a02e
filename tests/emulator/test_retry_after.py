"""Retry-After over real HTTP: the client waits what d6 asks, on a clock the test holds.

urllib3's ``time.sleep`` is replaced by a recorder, so the test proves the wait without
spending it (a recorded-answer library would retry without waiting at all).
"""

from __future__ import annotations

import pytest

from pulumi_d6.client import D6Client
from pulumi_d6.emulator.pytest_plugin import RunningEmulator
from pulumi_d6.settings import resolve_settings

V2 = "/api/v2/settings/clientintegrations"


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr("urllib3.util.retry.time.sleep", waits.append)
    return waits


@pytest.mark.parametrize(
    ("header", "waits"),
    [
        ("1", [1.0]),
        ("86400", [60.0]),  # capped at a minute
        ("1.5", [1.5]),
        ("abc", []),
        ("-5", []),
        ("NaN", []),
        ("", []),
    ],
)
def test_a_429_is_retried_after_the_wait_it_asks_for_capped_or_the_usual_backoff(
    d6_emulator: RunningEmulator, slept: list[float], header: str, waits: list[float]
) -> None:
    """Seconds (decimal too) are waited, capped at a minute; anything urllib3 cannot read is
    ignored for the usual backoff (none before a first retry), where urllib3 alone fails the
    request with InvalidHeader, unretried."""
    d6_emulator.admin.authorise(1000, 8)
    d6_emulator.admin.inject("status", route=V2, method="PATCH", status=429, retry_after=header)
    client = D6Client(resolve_settings(d6_emulator.settings(max_retries=2), env={}))
    assert client.activate(1000, 8).changed is True
    assert slept == waits
    assert d6_emulator.admin.count(method="PATCH") == 2
    assert d6_emulator.admin.is_active(1000, 8) is True
