"""A change whose every answer is lost: the provider looks at d6 before it reports anything.

d6 may have applied a change the client never heard back about (a dropped connection, a gateway
503 until the retries ran out, a garbled 200). Failing then would leave an integration that is
active in d6 out of state; succeeding blindly would record a change that never happened. So the
provider reads the live state back: done is success (and recorded), not done is a clear error
naming the integration.
"""

from __future__ import annotations

import pytest

from pulumi_d6.errors import ResourceError

from .fake_d6 import (
    GARBLED,
    PASSWORD,
    Answer,
    FakeD6,
    answer_lost,
    provider,
    serving,
    status_answer,
)

LOST_ANSWERS = {
    "connection dropped": answer_lost(),
    "503 until the retries run out": status_answer(503),
    "502 until the retries run out": status_answer(502),
    "429 until the retries run out": status_answer(429, "Rate limits have been reached"),
    "garbled 200": GARBLED,
    "200 that says it failed": (200, {}, '{"success": false, "message": "Could not update"}'),
}
ERROR_TEXT = {
    "connection dropped": "Connection aborted",
    "503 until the retries run out": "HTTP 503",
    "502 until the retries run out": "HTTP 502",
    "429 until the retries run out": "HTTP 429",
    "garbled 200": "malformed JSON",
    "200 that says it failed": "a success status with a body that says it failed",
}
RETRIES = 2
lost = pytest.mark.parametrize("answer", list(LOST_ANSWERS.values()), ids=list(LOST_ANSWERS))


def attempts(answer: Answer) -> int:
    """Change requests sent: statuses are retried, a dropped or garbled answer is not."""
    retried = isinstance(answer, tuple) and answer[0] >= 429
    return 1 + RETRIES if retried else 1


@lost
def test_a_create_d6_applied_is_read_back_and_recorded(answer: Answer) -> None:
    d6 = FakeD6(state={(1000, 8): False}, change_answer=answer)
    with serving(d6):
        result = provider(**{"d6:maxRetries": str(RETRIES)}).create(
            {"school_id": 1000, "api_type_id": 8, "active": True, "deactivate_on_destroy": True}
        )
    assert result.id == "1000/8"
    assert result.outs is not None
    assert result.outs["active"] is True
    assert result.outs["school_name"] == "School 1000", "the read-back's details are recorded"
    assert d6.state[(1000, 8)] is True
    assert d6.changes_sent == attempts(answer)
    assert d6.lists_sent == 1, "one read-back"


@lost
def test_a_create_d6_did_not_apply_is_a_clear_error_naming_the_integration(
    answer: Answer,
) -> None:
    d6 = FakeD6(state={(1000, 8): False}, change_answer=answer, apply_changes=False)
    with serving(d6), pytest.raises(ResourceError) as err:
        provider(**{"d6:maxRetries": str(RETRIES)}).create(
            {"school_id": 1000, "api_type_id": 8, "active": True, "deactivate_on_destroy": True}
        )
    text = str(err.value)
    assert text.startswith("Could not activate 1000/8: ")
    assert ERROR_TEXT[next(k for k, v in LOST_ANSWERS.items() if v is answer)] in text
    assert PASSWORD not in text
    assert d6.state[(1000, 8)] is False
    assert d6.lists_sent == 1, "it looked before failing"


@lost
def test_an_update_to_inactive_d6_applied_is_read_back_and_recorded(answer: Answer) -> None:
    d6 = FakeD6(state={(1000, 8): True}, change_answer=answer)
    olds = {"school_id": 1000, "api_type_id": 8, "active": True, "deactivate_on_destroy": True}
    with serving(d6):
        made = provider(**{"d6:maxRetries": str(RETRIES)})
        result = made.update("1000/8", olds, {**olds, "active": False})
    assert result.outs is not None
    assert result.outs["active"] is False
    assert result.outs["school_name"] == "School 1000", "the read-back's details are recorded"
    assert d6.state[(1000, 8)] is False


@lost
def test_a_delete_d6_did_not_apply_fails_so_the_resource_stays_in_state(answer: Answer) -> None:
    d6 = FakeD6(state={(1000, 8): True}, change_answer=answer, apply_changes=False)
    props = {"school_id": 1000, "api_type_id": 8, "active": True, "deactivate_on_destroy": True}
    with serving(d6), pytest.raises(ResourceError, match=r"^Could not deactivate 1000/8: "):
        provider(**{"d6:maxRetries": str(RETRIES)}).delete("1000/8", props)
    assert d6.state[(1000, 8)] is True


def test_when_the_read_back_fails_too_the_error_is_the_change_that_failed() -> None:
    d6 = FakeD6(
        state={(1000, 8): False}, change_answer=answer_lost(), list_answer=status_answer(500)
    )
    with serving(d6), pytest.raises(ResourceError) as err:
        provider(**{"d6:maxRetries": "0"}).create({"school_id": 1000, "api_type_id": 8})
    assert str(err.value).startswith("Could not activate 1000/8: PATCH ")
    assert "Connection aborted" in str(err.value)


def test_a_clear_refusal_is_not_read_back() -> None:
    """A 4xx answer is d6 saying no, not a lost answer: no read-back, d6's words in the error."""
    d6 = FakeD6(state={(1000, 8): False}, change_answer=status_answer(403, "Forbidden here"))
    with serving(d6), pytest.raises(ResourceError, match="Forbidden here"):
        provider().create({"school_id": 1000, "api_type_id": 8})
    assert d6.lists_sent == 0


def test_a_deactivation_d6_applied_keeps_its_unit_of_the_budget(
    caplog: pytest.LogCaptureFixture,
) -> None:
    d6 = FakeD6(state={(1000, 8): True, (1001, 8): True}, change_answer=GARBLED)
    caplog.set_level("WARNING", logger="pulumi_d6")
    with serving(d6):
        made = provider(**{"d6:maxDeactivations": "1"})
        made.delete("1000/8", {"active": True, "deactivate_on_destroy": True})
        with pytest.raises(ResourceError, match="refusing to deactivate school 1001 / API type 8"):
            made.delete("1001/8", {"active": True, "deactivate_on_destroy": True})
    assert d6.state == {(1000, 8): False, (1001, 8): True}
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "pulumi_d6.provider"]
    assert warning.startswith("1000/8: the change answered badly (PATCH ")
    assert "malformed JSON where JSON was expected" in warning
    assert warning.endswith(") but d6 shows it done")
