"""The resource contract, in-process: what each call sends to d6 and what it returns.

The engine-tier tests prove the same through ``python -m pulumi.dynamic``; these run in the
test process, so ``make mutate`` can see them kill mutants of the provider.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from pulumi_d6.errors import ResourceError, SettingsError
from pulumi_d6.provider import ClientIntegrationProvider

from .fake_d6 import BASE, PASSWORD, FakeD6, provider, record, serving, status_answer

DETAILS = {k: v for k, v in record(1000).items() if k not in ("activated_by_integrator",)}


def props(school: int = 1000, **flags: Any) -> dict[str, Any]:
    return {
        "school_id": school,
        "api_type_id": 8,
        "active": True,
        "deactivate_on_destroy": True,
        **flags,
    }


def outputs(school: int = 1000, **flags: Any) -> dict[str, Any]:
    details = {k: v for k, v in record(school).items() if k != "activated_by_integrator"}
    return {**details, "active": True, "deactivate_on_destroy": True, **flags}


def test_create_activates_and_returns_every_output() -> None:
    d6 = FakeD6(state={(1000, 8): False})
    with serving(d6):
        result = provider().create(props())
    assert result.id == "1000/8"
    assert result.outs == outputs()
    assert type(result.outs["school_id"]) is int
    assert d6.state == {(1000, 8): True}


def test_create_of_an_active_one_adopts_it() -> None:
    d6 = FakeD6(state={(1000, 8): True})
    with serving(d6):
        result = provider().create(props())
    assert result.outs == outputs()
    assert d6.changes_sent == 1


def test_create_inactive_of_an_active_one_deactivates_it() -> None:
    d6 = FakeD6(state={(1000, 8): True})
    with serving(d6):
        result = provider().create(props(active=False))
    assert result.outs == outputs(active=False)
    assert d6.state == {(1000, 8): False}


def test_create_inactive_with_no_budget_adopts_an_inactive_one_without_a_change() -> None:
    d6 = FakeD6(state={(1000, 8): False})
    with serving(d6):
        result = provider(**{"d6:maxDeactivations": "0"}).create(props(active=False))
    assert result.outs == outputs(active=False)
    assert d6.changes_sent == 0


def test_create_inactive_with_no_budget_refuses_an_active_one() -> None:
    d6 = FakeD6(state={(1000, 8): True})
    with serving(d6), pytest.raises(ResourceError, match="this run allows no deactivations"):
        provider(**{"d6:maxDeactivations": "0"}).create(props(active=False))
    assert (d6.changes_sent, d6.state) == (0, {(1000, 8): True})


def test_create_inactive_of_one_not_authorised_says_so_and_sends_nothing() -> None:
    d6 = FakeD6(state={})
    with serving(d6), pytest.raises(ResourceError, match="School 1000 has not authorised"):
        provider(**{"d6:maxDeactivations": "0"}).create(props(active=False))
    assert d6.changes_sent == 0


def test_create_for_a_school_that_has_not_authorised_says_so() -> None:
    d6 = FakeD6(state={})
    with serving(d6), pytest.raises(ResourceError) as err:
        provider().create(props())
    assert str(err.value) == (
        "School 1000 has not authorised your integration for API type 8 in d6+ SAMS. Ask the "
        "school to authorise it in d6+, then run `pulumi up` again."
    )


def test_a_failed_details_read_after_the_change_still_records_the_resource() -> None:
    d6 = FakeD6(state={(1000, 8): False}, list_answer=status_answer(500))
    with serving(d6):
        result = provider(**{"d6:maxRetries": "0"}).create(props())
    assert d6.state == {(1000, 8): True}
    assert result.outs == {
        **props(),
        **{k: "" for k in DETAILS if k not in ("school_id", "api_type_id")},
    }


def test_a_change_answered_with_another_schools_record_records_this_schools_details() -> None:
    """d6's answer carries a record: one of another school is not this resource's details."""
    other = {"success": True, "message": "done", "data": record(1001, active=True)}
    d6 = FakeD6(state={(1000, 8): False}, change_answer=(200, {}, json.dumps(other)))
    with serving(d6):
        result = provider().create(props())
    assert result.outs == outputs()
    assert result.outs["school_name"] == "School 1000"
    assert d6.lists_sent == 1, "its own details, read back"


def test_update_of_active_sends_one_change_and_returns_every_output() -> None:
    d6 = FakeD6(state={(1000, 8): True})
    with serving(d6):
        result = provider().update("1000/8", outputs(), props(active=False))
    assert result.outs == outputs(active=False)
    assert d6.state == {(1000, 8): False}
    assert d6.changes_sent == 1


def test_update_of_deactivate_on_destroy_sends_nothing_and_keeps_the_details() -> None:
    d6 = FakeD6(state={(1000, 8): True})
    with serving(d6):
        result = provider().update("1000/8", outputs(), props(deactivate_on_destroy=False))
    assert result.outs == outputs(deactivate_on_destroy=False)
    assert (d6.changes_sent, d6.lists_sent) == (0, 0)


def test_update_to_inactive_takes_a_unit_of_the_budget() -> None:
    d6 = FakeD6(state={(1000, 8): True, (1001, 8): True})
    with serving(d6):
        made = provider(**{"d6:maxDeactivations": "1"})
        made.update("1000/8", outputs(), props(active=False))
        with pytest.raises(ResourceError, match="already deactivated 1 integration"):
            made.update("1001/8", outputs(1001), props(1001, active=False))
    assert d6.state == {(1000, 8): False, (1001, 8): True}


def test_read_returns_live_state_as_outputs_and_inputs() -> None:
    d6 = FakeD6(state={(1000, 8): False})
    with serving(d6):
        result = provider().read("1000/8", outputs(deactivate_on_destroy=False))
    assert result.id == "1000/8"
    assert result.outs == outputs(active=False, deactivate_on_destroy=False)
    assert result.inputs == props(active=False, deactivate_on_destroy=False)


def test_read_of_a_revoked_one_returns_an_empty_id() -> None:
    d6 = FakeD6(state={})
    with serving(d6):
        result = provider().read("1000/8", outputs())
    assert (result.id, result.outs) == ("", {})


def test_read_failing_names_the_integration() -> None:
    d6 = FakeD6(state={(1000, 8): True}, list_answer=status_answer(500, "boom"))
    with serving(d6), pytest.raises(ResourceError, match=r"^Could not read 1000/8: .*boom"):
        provider(**{"d6:maxRetries": "0"}).read("1000/8", outputs())


def test_delete_deactivates_an_active_one() -> None:
    d6 = FakeD6(state={(1000, 8): True})
    with serving(d6):
        provider().delete("1000/8", outputs())
    assert d6.state == {(1000, 8): False}


@pytest.mark.parametrize(
    "state", [outputs(deactivate_on_destroy=False), outputs(active=False)], ids=["forget", "off"]
)
def test_delete_sends_nothing_when_forgetting_or_already_inactive(state: dict[str, Any]) -> None:
    d6 = FakeD6(state={(1000, 8): True})
    with serving(d6):
        provider(**{"d6:maxDeactivations": "0"}).delete("1000/8", state)
    assert (d6.changes_sent, d6.state) == (0, {(1000, 8): True})


def test_delete_of_one_no_longer_authorised_is_success_and_costs_no_unit() -> None:
    d6 = FakeD6(state={(1001, 8): True})
    with serving(d6):
        made = provider(**{"d6:maxDeactivations": "1"})
        made.delete("1000/8", outputs())
        made.delete("1001/8", outputs(1001))
    assert d6.state == {(1001, 8): False}


def test_delete_of_one_already_inactive_in_d6_gives_its_unit_back() -> None:
    d6 = FakeD6(state={(1000, 8): False, (1001, 8): True})
    with serving(d6):
        made = provider(**{"d6:maxDeactivations": "1"})
        made.delete("1000/8", outputs())
        made.delete("1001/8", outputs(1001))
    assert d6.state == {(1000, 8): False, (1001, 8): False}


def test_bad_credentials_name_the_username_and_how_to_fix_them() -> None:
    d6 = FakeD6(
        state={(1000, 8): False},
        change_answer=(401, {}, '{"success": false, "message": "Invalid credentials"}'),
    )
    with serving(d6), pytest.raises(ResourceError) as err:
        provider().create(props())
    text = str(err.value)
    assert text == (
        "Could not activate 1000/8: PATCH https://d6.example.test/api/v2/settings/"
        "clientintegrations failed (HTTP 401): d6 rejected the integrator credentials (username "
        "from d6:username, password from d6:password): Invalid credentials. Correct them where "
        "they are set: `pulumi config set d6:username <name>` and "
        "`pulumi config set --secret d6:password` (it prompts for the password)."
    )
    assert "Fake-D6-Pw" not in text


def test_state_flags_this_provider_never_writes_count_as_their_defaults() -> None:
    d6 = FakeD6(state={(1000, 8): True})
    with serving(d6):
        provider().delete("1000/8", {**outputs(), "active": "garbage", "deactivate_on_destroy": 7})
    assert d6.state == {(1000, 8): False}, "active and deactivate_on_destroy both defaulted"


def test_update_back_to_active_sends_one_activation() -> None:
    d6 = FakeD6(state={(1000, 8): False})
    with serving(d6):
        result = provider(**{"d6:maxDeactivations": "0"}).update(
            "1000/8", outputs(active=False), props()
        )
    assert result.outs == outputs()
    assert d6.state == {(1000, 8): True}
    assert d6.changes_sent == 1


def test_read_asks_for_this_integration_among_others() -> None:
    d6 = FakeD6(state={(999, 8): True, (1000, 9): True, (1000, 8): False, (1001, 8): True})
    with serving(d6):
        result = provider().read("1000/8", outputs())
    assert result.outs == outputs(active=False)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("school_id", "x", "school_id must be a whole number greater than 0, got 'x'"),
        ("api_type_id", 0, "api_type_id must be a whole number greater than 0, got 0"),
        ("school_id", None, "school_id is required: must be a whole number greater than 0"),
    ],
)
@pytest.mark.parametrize("call", ["create", "update"])
def test_unchecked_bad_inputs_never_reach_d6(
    field: str, value: Any, reason: str, call: str
) -> None:
    """If the engine ever skipped check, create and update still refuse, naming the field."""
    d6 = FakeD6(state={(1000, 8): False})
    bad = {**props(), field: value}
    made = provider()
    send = (
        partial(made.create, bad)
        if call == "create"
        else partial(made.update, "1000/8", outputs(), bad)
    )
    with serving(d6), pytest.raises(ResourceError) as err:
        send()
    assert str(err.value) == reason
    assert (d6.changes_sent, d6.lists_sent) == (0, 0)


def test_why_nothing_was_sent_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    d6 = FakeD6(state={(1001, 8): True})
    caplog.set_level("INFO", logger="pulumi_d6")
    with serving(d6):
        made = provider()
        made.read("1000/8", outputs())
        made.delete("1001/8", outputs(1001, deactivate_on_destroy=False))
        made.delete("1000/8", outputs())
    assert [r.getMessage() for r in caplog.records if r.name == "pulumi_d6.provider"] == [
        "integration 1000/8 is no longer authorised by the school; dropping it",
        "1001/8: deactivate_on_destroy is false; forgetting it without an API call",
        "1000/8: the school no longer authorises it; nothing to deactivate",
    ]


def test_delete_with_no_budget_left_is_refused_before_anything_is_sent() -> None:
    d6 = FakeD6(state={(1000, 8): False})  # inactive in d6, active in state: still refused
    with (
        serving(d6),
        pytest.raises(ResourceError, match=r"^refusing to deactivate school 1000 / API type 8: "),
    ):
        provider(**{"d6:maxDeactivations": "0"}).delete("1000/8", outputs())
    assert (d6.changes_sent, d6.lists_sent) == (0, 0)


def test_a_failed_details_read_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    d6 = FakeD6(state={(1000, 8): False}, list_answer=status_answer(500, "down"))
    caplog.set_level("WARNING", logger="pulumi_d6")
    with serving(d6):
        provider(**{"d6:maxRetries": "0"}).create(props())
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "pulumi_d6.provider"]
    assert warning.startswith("1000/8: state set, but reading its details failed: GET ")
    assert warning.endswith("down")


SCHOOLS = range(1000, 1010)  # more than the targeted reads: refresh takes one listing


def test_refresh_after_own_changes_in_the_same_process() -> None:
    """Changes this process made after the listing are what later reads return."""
    d6 = FakeD6(state={(s, 8): False for s in SCHOOLS})
    with serving(d6):
        made = provider()
        for school in list(SCHOOLS)[:-1]:
            made.read(f"{school}/8", outputs(school, active=False))
        lists = d6.lists_sent
        made.update("1009/8", outputs(1009, active=False), props(1009))  # listed, not yet read
        d6.state[(2000, 8)] = False  # authorised after the listing
        made.create(props(2000))
        late = made.read("2000/8", outputs(2000))
        held = made.read("1009/8", outputs(1009, active=False))  # live state wins over state
    assert (late.id, (late.outs or {})["active"]) == ("2000/8", True), "asked d6, not revoked"
    assert (held.id, (held.outs or {})["active"]) == ("1009/8", True), "the listing's, updated"
    assert d6.lists_sent - lists == 2, "the create's details read and the late read; 1009 held"


def test_a_bad_setting_is_named_with_where_to_fix_it_before_anything_is_sent() -> None:
    d6 = FakeD6(state={(1000, 8): False})
    with serving(d6), pytest.raises(SettingsError) as err:
        provider(**{"d6:timeoutSeconds": "soon"}).create(props())
    assert str(err.value) == (
        "invalid d6 settings: d6:timeoutSeconds = 'soon': Input should be a valid number, unable "
        "to parse string as a number (while trying to activate 1000/8). Fix it in stack config or "
        "the D6_* environment."
    )
    assert d6.changes_sent == 0


def test_credentials_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("D6_USERNAME", "integrator")
    monkeypatch.setenv("D6_PASSWORD", PASSWORD)
    made = ClientIntegrationProvider()
    made.configure(ConfigureRequest(Config({"d6:baseUrl": BASE}, "d6-integrations")))
    d6 = FakeD6(state={(1000, 8): False})
    with serving(d6) as mock:
        made.create(props())
        assert mock.calls[0].request.headers["HTTP-X-PASSWORD"] == PASSWORD
    assert d6.state == {(1000, 8): True}
