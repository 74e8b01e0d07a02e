"""The deactivation budget through the engine protocol: exact under the engine's 4 threads,
refusals before any request, state kept, and the bad day it exists for (an empty listing)."""

from __future__ import annotations

import base64
import pickle
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from pulumi.dynamic.dynamic import PROVIDER_KEY

from pulumi_d6.client import D6Client
from pulumi_d6.declarations import ProgramConfig, plan
from pulumi_d6.emulator.pytest_plugin import RunningEmulator
from pulumi_d6.integration import IntegrationSpec
from pulumi_d6.provider import ClientIntegrationProvider
from pulumi_d6.testing.engine import (
    EngineError,
    EngineStack,
    ProviderProcess,
    ResourceState,
    from_struct,
    to_struct,
)

from ..dead_ends import StallingProxy

V2 = "/api/v2/settings/clientintegrations"
Factory = Callable[..., ProviderProcess]
KEYS = [(1000 + i, 8) for i in range(12)]


@pytest.fixture
def emu(d6_emulator_factory: Callable[..., RunningEmulator]) -> RunningEmulator:
    """An emulator of this test's own, so its request log counts only this test's calls."""
    running: RunningEmulator = d6_emulator_factory(seed=12)
    return running


@pytest.fixture
def processes(process_factory: Factory) -> Factory:
    return process_factory


def declared(school: int, api_type: int = 8, **extra: Any) -> dict[str, Any]:
    return {"school_id": school, "api_type_id": api_type, **extra}


def create_all(stack: EngineStack, keys: list[tuple[int, int]], **extra: Any) -> list[Any]:
    states = []
    for school, api_type in keys:
        state = stack.up(f"s-{school}-{api_type}", declared(school, api_type, **extra)).state
        assert state is not None
        states.append(state)
    return states


def destroy_concurrently(stack: EngineStack, states: list[Any]) -> list[str | None]:
    """Destroy with 4 calls in flight, as the engine does; the error text of each (or None)."""

    def destroy(state: Any) -> str | None:
        try:
            stack.destroy(state)
        except EngineError as exc:
            return exc.details
        return None

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(destroy, states))


def deactivations(emu: RunningEmulator) -> int:
    return emu.admin.count(method="PATCH", route=V2, status=200)


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_default_budget_deactivates_10_of_12_and_refuses_2_before_any_request(
    emu: RunningEmulator, processes: Factory
) -> None:
    stack = EngineStack(processes(emu.stack_config()))
    states = create_all(stack, KEYS)
    emu.admin.clear_requests()
    errors = destroy_concurrently(stack, states)
    refused = [e for e in errors if e is not None]
    assert len(refused) == 2
    assert emu.admin.count(method="PATCH") == 10, "the 2 refusals sent nothing"
    assert deactivations(emu) == 10
    message = last_line(refused[0])
    assert message.startswith("pulumi_d6.budget.DeactivationRefused: refusing to deactivate school")
    assert (
        "this run has already deactivated 10 integration(s), the limit set by "
        "the default of d6:maxDeactivations (10). If this is intended, raise it in the stack "
        "file: pulumi config set d6:maxDeactivations 50."
    ) in message
    still_active = [k for k in KEYS if emu.admin.is_active(*k)]
    assert len(still_active) == 2, "refused resources were not deactivated"
    # The engine keeps a resource whose delete failed; the next run (a new process) takes it.
    kept = [s for s, e in zip(states, errors, strict=True) if e is not None]
    next_run = EngineStack(processes(emu.stack_config()))
    for state in kept:
        next_run.destroy(state)
    assert not any(emu.admin.is_active(*k) for k in KEYS)


def test_the_budget_is_the_process_s_even_when_state_holds_other_pickles_of_the_provider(
    emu: RunningEmulator, processes: Factory
) -> None:
    """State written by another Python or dill holds the provider pickled in another protocol;
    ``python -m pulumi.dynamic`` makes one provider instance per distinct text. One budget
    still covers them all (it used to be one budget per instance: 4 texts, 4 budgets)."""
    stack = EngineStack(processes({**emu.stack_config(), "d6:maxDeactivations": "5"}))
    states = create_all(stack, KEYS)
    texts = [
        base64.b64encode(pickle.dumps(ClientIntegrationProvider(), protocol=p)).decode()
        for p in (2, 3, 4, 5)
    ]

    def pickled_as(index: int, state: ResourceState) -> ResourceState:
        outputs = {**from_struct(state.outputs), PROVIDER_KEY: texts[index % len(texts)]}
        return ResourceState(state.urn, state.id, state.inputs, to_struct(outputs))

    mixed = [pickled_as(i, state) for i, state in enumerate(states)]
    emu.admin.clear_requests()
    errors = destroy_concurrently(stack, mixed)
    assert deactivations(emu) == 5
    assert emu.admin.count(method="PATCH") == 5
    assert len([e for e in errors if e is not None]) == 7
    assert sum(1 for k in KEYS if emu.admin.is_active(*k)) == 7


@pytest.mark.parametrize(
    ("config", "env", "allowed", "named"),
    [
        ({"d6:maxDeactivations": "3"}, {}, 3, "set by stack config d6:maxDeactivations = 3."),
        ({"d6:maxDeactivations": "unlimited"}, {}, 12, None),
        ({"d6:maxDeactivations": "UNLIMITED"}, {}, 12, None),
        ({"d6:maxDeactivations": "0"}, {}, 0, "this run allows no deactivations"),
        ({}, {"D6_MAX_DEACTIVATIONS": "2"}, 2, "the environment variable D6_MAX_DEACTIVATIONS=2."),
        (
            {"d6:maxDeactivations": "4"},
            {"D6_MAX_DEACTIVATIONS": "1"},
            4,
            "stack config d6:maxDeactivations = 4. If this is intended, raise it in the stack "
            "file: pulumi config set d6:maxDeactivations 50.",
        ),
    ],
)
def test_the_budget_follows_config_and_environment(
    emu: RunningEmulator,
    processes: Factory,
    config: dict[str, str],
    env: dict[str, str],
    allowed: int,
    named: str | None,
) -> None:
    states = create_all(EngineStack(processes(emu.stack_config())), KEYS)
    stack = EngineStack(processes({**emu.stack_config(), **config}, env))
    emu.admin.clear_requests()
    errors = destroy_concurrently(stack, states)
    assert deactivations(emu) == allowed
    assert emu.admin.count(method="PATCH") == allowed
    refused = [e for e in errors if e is not None]
    assert len(refused) == 12 - allowed
    if named is not None:
        assert named in last_line(refused[0])


def test_update_from_true_to_false_takes_a_unit(emu: RunningEmulator, processes: Factory) -> None:
    stack = EngineStack(processes({**emu.stack_config(), "d6:maxDeactivations": "1"}))
    first, second = create_all(stack, KEYS[:2])
    turned = stack.up("s-1000-8", declared(1000, active=False), first)
    assert turned.action == "update"
    with pytest.raises(EngineError) as refused:
        stack.up("s-1001-8", declared(1001, active=False), second)
    assert "refusing to deactivate school 1001 / API type 8" in refused.value.details
    assert emu.admin.is_active(1000, 8) is False
    assert emu.admin.is_active(1001, 8) is True
    again = stack.up("s-1000-8", declared(1000, active=True), turned.state)
    assert again.action == "update", "activations are never limited"
    assert emu.admin.is_active(1000, 8) is True


def test_forget_only_deletes_take_no_unit(emu: RunningEmulator, processes: Factory) -> None:
    setup = EngineStack(processes(emu.stack_config()))
    forget = create_all(setup, KEYS[:3], deactivate_on_destroy=False)
    inactive = create_all(setup, KEYS[3:5], active=False)
    revoked = create_all(setup, KEYS[5:7])
    for key in KEYS[5:7]:
        emu.admin.revoke(*key)
    real = create_all(setup, KEYS[7:8])
    stack = EngineStack(processes({**emu.stack_config(), "d6:maxDeactivations": "1"}))
    emu.admin.clear_requests()
    for state in forget + inactive + revoked:
        stack.destroy(state)  # none of these uses the one unit...
    stack.destroy(real[0])  # ...so the one real deactivation still goes through
    assert emu.admin.is_active(*KEYS[7]) is False
    assert emu.admin.count(method="PATCH") == 3, "2 revoked (401) and the real one"


def test_an_already_inactive_answer_gives_the_unit_back(
    emu: RunningEmulator, processes: Factory
) -> None:
    setup = EngineStack(processes(emu.stack_config()))
    drifted = create_all(setup, KEYS[:2])
    emu.admin.set_active(*KEYS[0], False)  # someone deactivated it in d6+ meanwhile
    stack = EngineStack(processes({**emu.stack_config(), "d6:maxDeactivations": "1"}))
    stack.destroy(drifted[0])  # d6: "Integration already deactivated": nothing deactivated
    stack.destroy(drifted[1])
    assert emu.admin.is_active(*KEYS[1]) is False


def test_a_deactivation_whose_answer_was_lost_keeps_its_unit(
    emu: RunningEmulator, processes: Factory
) -> None:
    """d6 applies the deactivation, the answer is lost on the way back, and the retry hears
    "Integration already deactivated": that was this run's own change, so it takes the unit."""
    setup = EngineStack(processes(emu.stack_config()))
    first, second = create_all(setup, KEYS[:2])
    with StallingProxy(("127.0.0.1", emu.server.port)) as proxy:
        config = {**emu.stack_config(), "d6:baseUrl": proxy.base_url, "d6:maxDeactivations": "1"}
        stack = EngineStack(processes(config))
        emu.admin.clear_requests()
        proxy.lose_answer("PATCH")
        stack.destroy(first)
        assert proxy.stalled == 1, "the first answer was lost"
        with pytest.raises(EngineError) as refused:
            stack.destroy(second)
    assert "refusing to deactivate school 1001 / API type 8" in refused.value.details
    assert "already deactivated 1 integration(s)" in refused.value.details
    assert emu.admin.is_active(*KEYS[0]) is False
    assert emu.admin.is_active(*KEYS[1]) is True
    assert emu.admin.count(method="PATCH", route=V2, status=200) == 1
    assert emu.admin.count(method="PATCH", route=V2, status=400) == 1, "the retry: 'already'"


def test_activations_are_never_limited(emu: RunningEmulator, processes: Factory) -> None:
    stack = EngineStack(processes({**emu.stack_config(), "d6:maxDeactivations": "0"}))
    create_all(stack, KEYS)
    assert all(emu.admin.is_active(*k) for k in KEYS)


def test_create_inactive_counts_only_when_it_deactivates(
    emu: RunningEmulator, processes: Factory
) -> None:
    for key in KEYS[:2]:
        emu.admin.set_active(*key, True)
    stack = EngineStack(processes({**emu.stack_config(), "d6:maxDeactivations": "1"}))
    stack.up("a", declared(1000, active=False))  # active in d6: takes the one unit
    with pytest.raises(EngineError) as refused:
        stack.up("b", declared(1001, active=False))  # active in d6, no unit left
    assert "refusing to deactivate school 1001" in refused.value.details
    emu.admin.clear_requests()
    adopted = stack.up("c", declared(1002, active=False))  # inactive in d6: adopted, no change
    assert adopted.state is not None
    assert adopted.state.outs["active"] is False
    assert emu.admin.count(method="PATCH") == 0
    assert emu.admin.is_active(1001, 8) is True


@pytest.mark.parametrize("value", ["-1", "ten", "1.5", "true", "1e3", "9" * 5000])
def test_invalid_budgets_are_settings_errors_naming_the_key(
    emu: RunningEmulator, processes: Factory, value: str
) -> None:
    stack = EngineStack(processes({**emu.stack_config(), "d6:maxDeactivations": value}))
    with pytest.raises(EngineError) as failed:
        stack.up("a", declared(1000))
    message = last_line(failed.value.details)
    assert message.startswith("pulumi_d6.errors.SettingsError: invalid d6 settings:")
    assert "d6:maxDeactivations" in message
    assert "must be a whole number >= 0, or unlimited" in message
    assert len(message) < 400
    assert emu.admin.count() == 0


# ------------------------------------------------------ the bad day it is for


def engine_run(
    stack: EngineStack, entries: list[IntegrationSpec], state: dict[str, ResourceState]
) -> dict[str, ResourceState]:
    """One `pulumi up` of the root program's plan: create/update declared, delete the rest."""
    after: dict[str, ResourceState] = {}
    for entry in entries:
        props = declared(
            entry.school_id,
            entry.api_type_id,
            active=entry.active,
            deactivate_on_destroy=entry.deactivate_on_destroy,
        )
        result = stack.up(entry.resource_name, props, state.get(entry.resource_name))
        assert result.state is not None
        after[entry.resource_name] = result.state
    for name, old in state.items():
        if name not in after:
            stack.destroy(old)
    return after


def test_a_listing_empty_by_mistake_costs_zero_deactivations(
    emu: RunningEmulator, processes: Factory
) -> None:
    """Nightly `up` with activateAllAuthorised: d6 lists nothing once, then recovers."""
    program = ProgramConfig(integrations=(IntegrationSpec(1011, 9),), activate_all_authorised=(8,))
    lookup = emu_lookup(emu)
    stack = EngineStack(processes(emu.stack_config()))
    state = engine_run(stack, plan(program, lookup), {})
    assert len(state) == 13
    assert all(emu.admin.is_active(*k) for k in KEYS)

    emu.admin.inject("empty_listing", route=V2, method="GET")
    emu.admin.clear_requests()
    bad_day = plan(program, lookup)
    assert [e.resource_name for e in bad_day] == ["school-1011-api-9"]
    state = engine_run(EngineStack(processes(emu.stack_config())), bad_day, state)
    assert emu.admin.count(method="PATCH") == 0, "nothing was deactivated"
    assert all(emu.admin.is_active(*k) for k in KEYS)

    emu.admin.clear_requests()
    good_day = plan(program, lookup)
    state = engine_run(EngineStack(processes(emu.stack_config())), good_day, state)
    assert len(state) == 13
    assert emu.admin.count(method="PATCH", status=200) == 0, "adopted, no change in d6"
    assert emu.admin.count(method="PATCH", status=400) == 12, "'Integration already activated'"
    assert all(emu.admin.is_active(*k) for k in KEYS)


def emu_lookup(emu: RunningEmulator) -> Callable[[int], list[Any]]:
    def lookup(api_type_id: int) -> list[Any]:
        with D6Client.from_settings(emu.settings()) as client:
            return client.list_integrations(api_type_id=api_type_id)

    return lookup
