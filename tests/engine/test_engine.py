"""The provider through the engine's own protocol: ``python -m pulumi.dynamic`` over gRPC.

Every lifecycle path a user's ``pulumi up``/``preview``/``refresh``/``destroy`` takes is played
here against the emulator, and the emulator's request log proves how many API calls it cost.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest
from pulumi.output import Unknown
from pulumi.runtime.proto import provider_pb2

from pulumi_d6.emulator import EmulatorServer
from pulumi_d6.emulator.pytest_plugin import RunningEmulator
from pulumi_d6.settings import stack_config_for
from pulumi_d6.testing.engine import (
    UNKNOWN,
    CheckFailed,
    EngineError,
    EngineStack,
    ProviderProcess,
    from_struct,
)

from .conftest import ProcessFactory

V2 = "/api/v2/settings/clientintegrations"
DIFF_NONE = provider_pb2.DiffResponse.DIFF_NONE
DIFF_SOME = provider_pb2.DiffResponse.DIFF_SOME


def stack_config(server: EmulatorServer, **extra: str) -> dict[str, str]:
    c = server.config
    return stack_config_for(
        c.username, c.password, server.base_url, **{"d6:maxRetries": "2", **extra}
    )


@pytest.fixture
def provider_process(d6_emulator_server: EmulatorServer) -> Iterator[ProviderProcess]:
    """A new provider process per test, as every `pulumi` command starts its own."""
    process = ProviderProcess(stack_config(d6_emulator_server))
    yield process
    process.close()


@pytest.fixture
def stack(provider_process: ProviderProcess, d6_emulator: RunningEmulator) -> EngineStack:
    d6_emulator.admin.reset(seed=5)
    return EngineStack(provider_process)


def declared(school: Any = 1000, api_type: Any = 8, **extra: Any) -> dict[str, Any]:
    return {"school_id": school, "api_type_id": api_type, **extra}


def calls(emu: RunningEmulator, method: str | None = None) -> int:
    return emu.admin.count(method=method)


# ----------------------------------------------------------------- create


def test_create_activates_and_returns_full_outputs(
    stack: EngineStack, d6_emulator: RunningEmulator
) -> None:
    result = stack.up("school-1000", declared())
    assert result.action == "create"
    assert result.state is not None
    assert result.state.id == "1000/8"
    live = d6_emulator.admin.integration(1000, 8)
    assert live is not None
    assert result.state.outs == {
        "school_id": 1000,
        "api_type_id": 8,
        "active": True,
        "deactivate_on_destroy": True,
        "school_name": "Greenfield Primary School",
        "admin_email_address": "admin@greenfield-primary-school.d6-emulator.test",
        "telephone_calling_code": "27",
        "telephone_number": live.telephone_number,
        "api_type": "Admin+ API",
    }
    assert isinstance(from_struct(result.state.outputs)["school_id"], float), (
        "numbers travel as doubles"
    )
    assert d6_emulator.admin.is_active(1000, 8) is True
    assert calls(d6_emulator) == 1, "v2 returns the record with the change: no follow-up read"


def test_create_adopts_an_integration_already_active(
    stack: EngineStack, d6_emulator: RunningEmulator
) -> None:
    d6_emulator.admin.set_active(1001, 9, True)
    result = stack.up("adopted", declared(1001, 9))
    assert result.state is not None
    assert result.state.outs["active"] is True
    assert result.state.outs["school_name"] == "Riverside Primary School"
    assert d6_emulator.admin.count(method="PATCH", status=400) == 1
    assert calls(d6_emulator) == 1


def test_create_with_active_false_keeps_it_inactive(
    stack: EngineStack, d6_emulator: RunningEmulator
) -> None:
    result = stack.up("declared-off", declared(1002, active=False))
    assert result.state is not None
    assert result.state.outs["active"] is False
    assert d6_emulator.admin.is_active(1002, 8) is False
    assert calls(d6_emulator) == 1


# ------------------------------------------------------------ preview, no-op


def test_preview_with_unknowns_neither_fails_nor_calls_the_api(
    stack: EngineStack, d6_emulator: RunningEmulator
) -> None:
    created = stack.up("p", declared())
    d6_emulator.admin.clear_requests()
    assert stack.preview("new", declared(UNKNOWN, 8)).action == "create"
    changed = stack.preview("p", declared(1000, 8, active=UNKNOWN), created.state)
    assert changed.action == "update"
    assert changed.diff.changes == DIFF_SOME
    moved = stack.preview("p", declared(UNKNOWN, 8), created.state)
    assert moved.action == "replace"
    assert list(moved.diff.replaces) == ["school_id"]
    assert calls(d6_emulator) == 0


def test_check_keeps_unknowns_in_its_inputs(stack: EngineStack) -> None:
    checked = stack.process.check(stack.urn("u"), {}, declared(UNKNOWN, UNKNOWN, active=UNKNOWN))
    assert list(checked.failures) == []
    inputs = from_struct(checked.inputs, keep_unknowns=True)
    assert isinstance(inputs["school_id"], Unknown)
    assert isinstance(inputs["active"], Unknown)
    assert inputs["deactivate_on_destroy"] is True


def test_unchanged_declaration_is_a_no_op_with_zero_requests(
    stack: EngineStack, d6_emulator: RunningEmulator
) -> None:
    created = stack.up("same", declared(1003, 9))
    d6_emulator.admin.clear_requests()
    again = stack.up(
        "same", declared(1003, 9, active=True, deactivate_on_destroy=True), created.state
    )
    assert again.action == "same"
    assert again.diff.changes == DIFF_NONE
    assert calls(d6_emulator) == 0


def test_check_failures_name_the_field(stack: EngineStack, d6_emulator: RunningEmulator) -> None:
    with pytest.raises(CheckFailed) as err:
        stack.up("bad", {"school_id": 1000.5, "api_type_id": True, "active": "yes"})
    assert dict(err.value.failures) == {
        "school_id": "school_id must be a whole number greater than 0, got 1000.5",
        "api_type_id": "api_type_id must be a whole number greater than 0, got a boolean (true)",
        "active": "active must be true or false, got 'yes'",
    }
    assert calls(d6_emulator) == 0


# ------------------------------------------------------------------ update


def test_toggling_active_is_one_in_place_update(
    stack: EngineStack, d6_emulator: RunningEmulator
) -> None:
    created = stack.up("t", declared())
    d6_emulator.admin.clear_requests()
    off = stack.up("t", declared(active=False), created.state)
    assert off.action == "update"
    assert off.state is not None
    assert off.state.id == "1000/8"
    assert off.state.outs["active"] is False
    assert off.state.outs["school_name"] == "Greenfield Primary School"
    assert d6_emulator.admin.is_active(1000, 8) is False
    assert calls(d6_emulator) == 1
    on = stack.up("t", declared(active=True), off.state)
    assert on.action == "update"
    assert d6_emulator.admin.is_active(1000, 8) is True
    assert calls(d6_emulator) == 2


def test_changing_deactivate_on_destroy_is_an_update_without_requests(
    stack: EngineStack, d6_emulator: RunningEmulator
) -> None:
    created = stack.up("d", declared())
    d6_emulator.admin.clear_requests()
    result = stack.up("d", declared(deactivate_on_destroy=False), created.state)
    assert result.action == "update"
    assert result.state is not None
    assert result.state.outs["deactivate_on_destroy"] is False
    assert result.state.outs["active"] is True
    assert calls(d6_emulator) == 0


@pytest.mark.parametrize(
    ("change", "field"), [({"school_id": 1004}, "school_id"), ({"api_type_id": 9}, "api_type_id")]
)
def test_changing_school_or_api_type_replaces(
    stack: EngineStack, d6_emulator: RunningEmulator, change: dict[str, int], field: str
) -> None:
    created = stack.up("r", declared())
    result = stack.up("r", {**declared(), **change}, created.state)
    assert result.action == "replace"
    assert list(result.diff.replaces) == [field]
    assert result.state is not None
    new_key = (change.get("school_id", 1000), change.get("api_type_id", 8))
    assert result.state.id == f"{new_key[0]}/{new_key[1]}"
    assert d6_emulator.admin.is_active(*new_key) is True
    assert d6_emulator.admin.is_active(1000, 8) is False, "the replaced integration was deactivated"


# ----------------------------------------------------------------- refresh


def test_refresh_unchanged(stack: EngineStack, d6_emulator: RunningEmulator) -> None:
    created = stack.up("f", declared())
    assert created.state is not None
    d6_emulator.admin.clear_requests()
    refreshed = stack.refresh(created.state)
    assert refreshed.state is not None
    assert refreshed.state.outs == created.state.outs
    assert refreshed.state.ins == {
        "school_id": 1000,
        "api_type_id": 8,
        "active": True,
        "deactivate_on_destroy": True,
    }
    assert calls(d6_emulator) == 1
    assert stack.up("f", declared(), refreshed.state).action == "same"


def test_refresh_after_drift_shows_live_state_then_up_repairs_it(
    stack: EngineStack, d6_emulator: RunningEmulator
) -> None:
    created = stack.up("drift", declared(1002, 9))
    assert created.state is not None
    d6_emulator.admin.set_active(1002, 9, False)  # someone deactivated it in the d6+ UI
    refreshed = stack.refresh(created.state)
    assert refreshed.state is not None
    assert refreshed.state.outs["active"] is False
    assert refreshed.state.ins["active"] is False
    repaired = stack.up("drift", declared(1002, 9), refreshed.state)
    assert repaired.action == "update"
    assert d6_emulator.admin.is_active(1002, 9) is True


def test_refresh_after_the_school_revoked_drops_the_resource(
    stack: EngineStack, d6_emulator: RunningEmulator
) -> None:
    created = stack.up("revoked", declared(1004, 8))
    assert created.state is not None
    d6_emulator.admin.revoke(1004, 8)
    assert stack.refresh(created.state).action == "gone"


def test_resource_get_reads_with_inputs_only(stack: EngineStack) -> None:
    created = stack.up("g", declared())
    assert created.state is not None
    read = stack.process.read(created.state.urn, "1000/8", None, created.state.inputs)
    assert read.id == "1000/8"
    assert from_struct(read.properties)["active"] is True


# ------------------------------------------------------------------ delete


def test_destroy_deactivates(stack: EngineStack, d6_emulator: RunningEmulator) -> None:
    created = stack.up("x", declared())
    assert created.state is not None
    d6_emulator.admin.clear_requests()
    stack.destroy(created.state)
    assert d6_emulator.admin.is_active(1000, 8) is False
    assert d6_emulator.admin.count(method="PATCH", status=200) == 1


def test_destroy_with_deactivate_on_destroy_false_makes_no_request(
    stack: EngineStack, d6_emulator: RunningEmulator
) -> None:
    created = stack.up("keep", declared(deactivate_on_destroy=False))
    assert created.state is not None
    d6_emulator.admin.clear_requests()
    stack.destroy(created.state)
    assert calls(d6_emulator) == 0
    assert d6_emulator.admin.is_active(1000, 8) is True


def test_destroy_when_already_inactive_or_revoked_succeeds(
    stack: EngineStack, d6_emulator: RunningEmulator
) -> None:
    inactive = stack.up("a", declared(1001, 8)).state
    revoked = stack.up("b", declared(1002, 8)).state
    declared_off = stack.up("c", declared(1003, 8, active=False)).state
    assert inactive is not None
    assert revoked is not None
    assert declared_off is not None
    d6_emulator.admin.set_active(1001, 8, False)
    d6_emulator.admin.revoke(1002, 8)
    d6_emulator.admin.clear_requests()
    stack.destroy(inactive)
    stack.destroy(revoked)
    assert d6_emulator.admin.count(method="PATCH", status=400) == 1
    assert d6_emulator.admin.count(method="PATCH", status=401) == 1
    stack.destroy(declared_off)
    assert calls(d6_emulator) == 2, "a resource declared inactive needs no call on destroy"


# ------------------------------------------------------------------ errors


def test_create_for_a_school_that_has_not_authorised(
    stack: EngineStack, d6_emulator: RunningEmulator
) -> None:
    with pytest.raises(EngineError) as err:
        stack.up("nope", declared(7777, 8))
    assert (
        "School 7777 has not authorised your integration for API type 8 in d6+ SAMS. "
        "Ask the school to authorise it in d6+, then run `pulumi up` again."
    ) in err.value.details
    assert d6_emulator.admin.integration(7777, 8) is None
    assert d6_emulator.admin.health()["active"] == 0


def test_bad_credentials_say_which_keys_were_used(
    process_factory: ProcessFactory, d6_emulator: RunningEmulator
) -> None:
    d6_emulator.admin.reset(seed=1)
    wrong = "Wrong-Pw-5521"
    process = process_factory(stack_config(d6_emulator.server, **{"d6:password": wrong}))
    with pytest.raises(EngineError) as err:
        EngineStack(process).up("x", declared())
    used = "username from d6:username, password from d6:password"
    assert f"d6 rejected the integrator credentials ({used})" in err.value.details
    assert wrong not in err.value.details
    assert wrong not in process.output
    assert d6_emulator.admin.count(status=401) == 1


def test_missing_credentials_say_how_to_set_them(
    process_factory: ProcessFactory, d6_emulator: RunningEmulator
) -> None:
    process = process_factory({"d6:baseUrl": d6_emulator.base_url})
    with pytest.raises(EngineError) as err:
        EngineStack(process).up("x", declared())
    assert "pulumi config set --secret d6:password" in err.value.details
    assert "D6_USERNAME and D6_PASSWORD" in err.value.details
    assert calls(d6_emulator) == 0


def test_credentials_from_the_environment(
    process_factory: ProcessFactory, d6_emulator: RunningEmulator
) -> None:
    d6_emulator.admin.reset(seed=1)
    process = process_factory(
        {"d6:baseUrl": d6_emulator.base_url},
        env={"D6_USERNAME": d6_emulator.username, "D6_PASSWORD": d6_emulator.password},
    )
    created = EngineStack(process).up("env", declared())
    assert created.state is not None
    assert created.state.outs["active"] is True


def test_eight_concurrent_creates_on_one_provider_process(
    stack: EngineStack, d6_emulator: RunningEmulator
) -> None:
    d6_emulator.admin.reset(seed=8)
    keys = [(1000 + i // 2, 8 + i % 2) for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda k: stack.up(f"c-{k[0]}-{k[1]}", declared(*k)), keys))
    assert sorted(r.state.id for r in results if r.state) == sorted(f"{s}/{t}" for s, t in keys)
    assert all(d6_emulator.admin.is_active(*k) for k in keys)
    assert d6_emulator.admin.count(method="PATCH") == 8


def test_v1_mode_create_refresh_delete(
    process_factory: ProcessFactory, d6_emulator: RunningEmulator
) -> None:
    d6_emulator.admin.reset(seed=2)
    process = process_factory(stack_config(d6_emulator.server, **{"d6:apiVersion": "v1"}))
    stack = EngineStack(process)
    created = stack.up("v1", declared(1001, 9))
    assert created.state is not None
    assert created.state.outs["school_name"] == "Riverside Primary School"
    assert created.state.outs["api_type"] == "Curriculum+ API"
    assert d6_emulator.admin.is_active(1001, 9) is True
    v1_school = "/api/v1/settings/clients/{school_login_id}"
    assert d6_emulator.admin.count(method="PATCH", route=v1_school) == 1
    assert d6_emulator.admin.count(method="GET", route=v1_school) == 1, (
        "204 has no body: one read for the details"
    )
    d6_emulator.admin.set_active(1001, 9, False)
    refreshed = stack.refresh(created.state)
    assert refreshed.state is not None
    assert refreshed.state.outs["active"] is False
    stack.up("v1", declared(1001, 9), refreshed.state)
    assert d6_emulator.admin.is_active(1001, 9) is True
    final = stack.refresh(refreshed.state)
    assert final.state is not None
    stack.destroy(final.state)
    assert d6_emulator.admin.is_active(1001, 9) is False
    assert d6_emulator.admin.count(route=V2) == 0


def test_the_serialized_provider_holds_no_credentials(
    provider_process: ProviderProcess, d6_emulator: RunningEmulator
) -> None:
    raw = base64.b64decode(provider_process.provider)
    assert d6_emulator.password.encode() not in raw
    assert b"pulumi_d6.provider" in raw
    assert len(raw) < 200


def test_a_bad_setting_says_what_it_stopped_and_where_to_fix_it(
    process_factory: ProcessFactory, d6_emulator: RunningEmulator
) -> None:
    process = process_factory(stack_config(d6_emulator.server, **{"d6:timeoutSeconds": "soon"}))
    with pytest.raises(EngineError) as err:
        EngineStack(process).up("x", declared(1000, 8))
    assert err.value.details.splitlines()[-1] == (
        "pulumi_d6.errors.SettingsError: invalid d6 settings: d6:timeoutSeconds = 'soon': "
        "Input should be a valid number, unable to parse string as a number (while trying to "
        "activate 1000/8). Fix it in stack config or the D6_* environment."
    )
    assert calls(d6_emulator) == 0


def test_a_call_may_take_ten_minutes_and_the_limit_is_the_process_s(
    process_factory: ProcessFactory,
) -> None:
    """A listing of 20,000 integrations at 200 ms a page takes 80 s in one call, and calls queue
    behind it for the provider's 4 threads; the engine sets no limit, the harness 10 minutes
    (it was 2, fixed). The limit in force is the one each call is sent with."""
    process = process_factory(None)
    assert process.call_timeout == 600.0
    process.call_timeout = 1e-9
    with pytest.raises(EngineError) as late:
        process.check(EngineStack.urn("a"), {}, {"school_id": 1000, "api_type_id": 8})
    assert late.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
