"""Exclusive mode's inactive create, in-process: what the provider logs when it adopts one.

The log line is how an operator reading ``pulumi up --debug`` (or the provider's log) tells an
adoption without a change request from a deactivation.
"""

from __future__ import annotations

import logging

import pytest

from .fake_d6 import FakeD6, provider, serving


def test_an_inactive_one_adopted_without_a_change_is_logged_by_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    d6 = FakeD6(state={(1000, 8): False})
    props = {"school_id": 1000, "api_type_id": 8, "active": False, "deactivate_on_destroy": False}
    with serving(d6), caplog.at_level(logging.INFO, logger="pulumi_d6.provider"):
        provider().create(props)
    assert d6.changes_sent == 0
    assert [r.getMessage() for r in caplog.records if r.name == "pulumi_d6.provider"] == [
        "1000/8: already inactive in d6; adopted without a change request"
    ]
