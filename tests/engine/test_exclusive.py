"""Exclusive mode through the engine protocol against the emulator: the budget bounds each run,
inactive ones are adopted without a change request, a run after a run changes nothing, and a
listing that comes back empty by mistake deactivates nobody."""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from pulumi_d6.bulkread import TARGETED_READS
from pulumi_d6.client import D6Client
from pulumi_d6.declarations import ProgramConfig, plan
from pulumi_d6.emulator.pytest_plugin import RunningEmulator
from pulumi_d6.integration import IntegrationSpec
from pulumi_d6.models import ClientIntegrationInfo
from pulumi_d6.testing.engine import EngineError, EngineStack, ProviderProcess, ResourceState

V2 = "/api/v2/settings/clientintegrations"
Factory = Callable[..., ProviderProcess]
State = dict[str, ResourceState]
STRAY_8 = [(1000 + i, 8) for i in range(14)]  # active, undeclared: exclusive mode's work
IGNORED = [(1100, 8), (1101, 8)]  # active, undeclared, in exclusiveIgnore
STRAY_9 = [(1000 + i, 9) for i in range(3)]  # active, undeclared, type 9 is not exclusive
IDLE_8 = [(1200 + i, 8) for i in range(5)]  # inactive, undeclared: adopted as they are
DECLARED = IntegrationSpec(2000, 8)
PROGRAM = ProgramConfig(
    integrations=(DECLARED,),
    exclusive_api_types=(8,),
    exclusive_ignore=tuple(IGNORED),
)


def estate(emu: RunningEmulator) -> RunningEmulator:
    """d6 as exclusive mode finds it: strays, ignored ones, another type, idle ones."""
    for key in [*STRAY_8, *IGNORED, *STRAY_9, DECLARED.key]:
        emu.admin.authorise(*key, active=True)
    for key in IDLE_8:
        emu.admin.authorise(*key)
    return emu


@pytest.fixture
def emu(d6_emulator_factory: Callable[..., RunningEmulator]) -> RunningEmulator:
    return estate(d6_emulator_factory(seed=0))


def lookup_of(emu: RunningEmulator) -> Callable[[int], list[ClientIntegrationInfo]]:
    """What the program's lookup does: list one API type, every page."""

    def lookup(api_type_id: int) -> list[ClientIntegrationInfo]:
        with D6Client.from_settings(emu.settings()) as client:
            return client.list_integrations(api_type_id=api_type_id)

    return lookup


def up(
    stack: EngineStack, entries: list[IntegrationSpec], state: State
) -> tuple[State, dict[str, str]]:
    """One `pulumi up --continue-on-error` of a plan, 4 steps in flight as the engine runs them:
    the state after it, and the error of each resource whose step failed."""

    def step(entry: IntegrationSpec) -> tuple[str, ResourceState | None, str | None]:
        props = {
            "school_id": entry.school_id,
            "api_type_id": entry.api_type_id,
            "active": entry.active,
            "deactivate_on_destroy": entry.deactivate_on_destroy,
        }
        old = state.get(entry.resource_name)
        try:
            return entry.resource_name, stack.up(entry.resource_name, props, old).state, None
        except EngineError as exc:
            return entry.resource_name, old, exc.details

    after: State = {}
    errors: dict[str, str] = {}
    with ThreadPoolExecutor(4) as pool:
        for name, kept, error in pool.map(step, entries):
            if kept is not None:
                after[name] = kept
            if error is not None:
                errors[name] = error
    for name, old in state.items():
        if name not in {e.resource_name for e in entries}:
            stack.destroy(old)
    return after, errors


def active(emu: RunningEmulator, keys: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return [k for k in keys if emu.admin.is_active(*k)]


def changes(emu: RunningEmulator) -> int:
    """Change requests d6 received (PATCH, or POST after a 405), whatever they answered."""
    return emu.admin.count(method="PATCH") + emu.admin.count(method="POST")


def test_exclusive_mode_converges_within_the_budget_run_by_run(
    emu: RunningEmulator, process_factory: Factory
) -> None:
    lookup = lookup_of(emu)
    entries = plan(PROGRAM, lookup)
    assert len(entries) == 1 + 14 + 5, "declared, stray and idle; not ignored, not type 9"

    # Run 1, default budget (10): 10 strays deactivated, 4 refused before any request.
    emu.admin.clear_requests()
    state, errors = up(EngineStack(process_factory(emu.stack_config())), entries, {})
    assert emu.admin.count(method="PATCH", status=200) == 10, "exactly 10 deactivations"
    assert changes(emu) == 11, "10 deactivations, 1 'already activated' for the declared one"
    assert len(active(emu, STRAY_8)) == 4
    assert active(emu, IGNORED) == IGNORED
    assert active(emu, STRAY_9) == STRAY_9
    assert active(emu, IDLE_8) == []
    assert len(errors) == 4
    assert sorted(errors) == sorted(f"school-{s}-api-{t}" for s, t in active(emu, STRAY_8))
    refusal = next(iter(errors.values())).strip().splitlines()[-1]
    assert "this run has already deactivated 10 integration(s), the limit set by " in refusal
    assert "the default of d6:maxDeactivations (10)" in refusal
    assert len(state) == 16, "the refused ones are not in state: the next run creates them"
    assert {state[f"school-{s}-api-{t}"].outs["active"] for s, t in IDLE_8} == {False}

    # Run 2, budget raised: the 4 left are deactivated, nothing else is touched.
    emu.admin.clear_requests()
    raised = emu.stack_config(**{"d6:maxDeactivations": "20"})
    state, errors = up(EngineStack(process_factory(raised)), plan(PROGRAM, lookup), state)
    assert errors == {}
    assert emu.admin.count(method="PATCH", status=200) == 4
    assert changes(emu) == 4
    assert active(emu, STRAY_8) == []
    assert active(emu, IGNORED + STRAY_9) == IGNORED + STRAY_9
    assert len(state) == 20

    # Run 3: a run after a run makes no request at all (diff is local).
    entries = plan(PROGRAM, lookup)
    emu.admin.clear_requests()
    after, errors = up(EngineStack(process_factory(emu.stack_config())), entries, state)
    assert errors == {}
    assert emu.admin.count() == 0
    assert {n: s.outputs for n, s in after.items()} == {n: s.outputs for n, s in state.items()}

    # Declaring one that exclusive mode switched off is an update: one activation.
    declared = replace(PROGRAM, integrations=(DECLARED, IntegrationSpec(1000, 8)))
    entries = plan(declared, lookup)
    emu.admin.clear_requests()
    stack = EngineStack(process_factory(emu.stack_config()))
    step = stack.up(
        "school-1000-api-8",
        {"school_id": 1000, "api_type_id": 8, "active": True, "deactivate_on_destroy": True},
        after["school-1000-api-8"],
    )
    assert step.action == "update"
    assert changes(emu) == 1
    assert emu.admin.is_active(1000, 8) is True
    assert [e for e in entries if e.key == (1000, 8)] == [IntegrationSpec(1000, 8)]


def test_a_listing_empty_by_mistake_deactivates_nobody(
    emu: RunningEmulator, process_factory: Factory
) -> None:
    lookup = lookup_of(emu)
    config = emu.stack_config(**{"d6:maxDeactivations": "unlimited"})
    state, _ = up(EngineStack(process_factory(config)), plan(PROGRAM, lookup), {})
    assert active(emu, STRAY_8) == []
    for key in STRAY_8[:3]:
        emu.admin.set_active(*key, True)  # turned on by hand since

    # `pulumi up --refresh` (the nightly run): refresh sees them active...
    stack = EngineStack(process_factory(config))
    state = refreshed(stack, state)
    assert [n for n, s in state.items() if s.outs["active"]] == [
        DECLARED.resource_name,
        *(f"school-{s}-api-8" for s, _ in STRAY_8[:3]),
    ]
    # ...but the program's listing comes back empty: the exclusive entries vanish from the plan.
    emu.admin.inject("empty_listing", route=V2, method="GET")
    bad_day = plan(PROGRAM, lookup)
    assert bad_day == [DECLARED]
    emu.admin.clear_requests()
    after, errors = up(stack, bad_day, state)
    assert errors == {}
    assert changes(emu) == 0, "forgotten, never deactivated"
    assert active(emu, STRAY_8[:3]) == STRAY_8[:3]
    assert list(after) == [DECLARED.resource_name]

    # The next good run adopts them again and switches the 3 off: one unit each.
    emu.admin.clear_requests()
    stack = EngineStack(process_factory(config))
    after, errors = up(stack, plan(PROGRAM, lookup), refreshed(stack, after))
    assert errors == {}
    assert emu.admin.count(method="PATCH", status=200) == 3
    assert changes(emu) == 3
    assert active(emu, STRAY_8) == []


def refreshed(stack: EngineStack, state: State) -> State:
    """The refresh half of `pulumi up --refresh`: every resource read, the gone ones dropped."""
    after: State = {}
    for name, old in state.items():
        read = stack.refresh(old).state
        if read is not None:
            after[name] = read
    return after


def test_the_providers_own_listing_empty_by_mistake_deactivates_nobody(
    emu: RunningEmulator, process_factory: Factory
) -> None:
    """The plan was made on a good listing; the provider's reads then come back empty."""
    entries = plan(PROGRAM, lookup_of(emu))
    emu.admin.inject("empty_listing", route=V2, method="GET", count=1000)
    emu.admin.clear_requests()
    config = emu.stack_config(**{"d6:maxDeactivations": "unlimited"})
    state, errors = up(EngineStack(process_factory(config)), entries, {})
    assert changes(emu) == 1, "only the declared activation ('already activated')"
    assert active(emu, STRAY_8) == STRAY_8
    assert len(errors) == 19
    assert (
        "School 1000 has not authorised your integration for API type 8 in d6+ SAMS."
        in errors["school-1000-api-8"]
    )
    assert list(state) == [DECLARED.resource_name]


def test_inactive_creates_read_through_the_bulk_listing(
    emu: RunningEmulator, process_factory: Factory
) -> None:
    idle = [(1300 + i, 8) for i in range(40)]
    for key in idle:
        emu.admin.authorise(*key)
    entries = [IntegrationSpec(*key, active=False, deactivate_on_destroy=False) for key in idle]
    emu.admin.clear_requests()
    state, errors = up(EngineStack(process_factory(emu.stack_config())), entries, {})
    assert errors == {}
    assert len(state) == 40
    assert changes(emu) == 0, "all inactive: adopted without a change request"
    total = len(STRAY_8 + IGNORED + STRAY_9 + IDLE_8) + 1 + 40
    pages = math.ceil(total / 50)
    gets = emu.admin.count(method="GET")
    print(f"\n40 inactive creates of {total} listed: {gets} GET requests")
    assert gets <= TARGETED_READS + pages + 4, "a few targeted reads, then one listing"
    assert gets < 40 / 2


def test_an_active_one_created_inactive_takes_a_unit_and_an_inactive_one_none(
    emu: RunningEmulator, process_factory: Factory
) -> None:
    stack = EngineStack(process_factory(emu.stack_config(**{"d6:maxDeactivations": "0"})))
    emu.admin.clear_requests()
    adopted = stack.up("idle", {"school_id": 1200, "api_type_id": 8, "active": False})
    assert adopted.state is not None
    assert adopted.state.outs["active"] is False
    with pytest.raises(EngineError) as refused:
        stack.up("stray", {"school_id": 1000, "api_type_id": 8, "active": False})
    assert "this run allows no deactivations" in refused.value.details
    assert changes(emu) == 0
    assert emu.admin.is_active(1000, 8) is True


def test_an_unlisted_one_created_inactive_is_refused_as_not_authorised(
    emu: RunningEmulator, process_factory: Factory
) -> None:
    stack = EngineStack(process_factory(emu.stack_config()))
    emu.admin.clear_requests()
    with pytest.raises(EngineError) as refused:
        stack.up("gone", {"school_id": 4242, "api_type_id": 8, "active": False})
    assert refused.value.details.strip().splitlines()[-1] == (
        "pulumi_d6.errors.ResourceError: School 4242 has not authorised your integration for "
        "API type 8 in d6+ SAMS. Ask the school to authorise it in d6+, then run `pulumi up` "
        "again."
    )
    assert changes(emu) == 0
