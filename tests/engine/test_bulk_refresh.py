"""Refresh at scale: few requests for many reads, with the engine's 4 reads in flight."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from pulumi_d6.bulkread import TARGETED_READS, BulkReader
from pulumi_d6.client import D6Client
from pulumi_d6.emulator.pytest_plugin import RunningEmulator
from pulumi_d6.settings import resolve_settings
from pulumi_d6.testing.engine import EngineStack, ProviderProcess, ResourceState, to_struct

PAGE = 50


def state_for(process: ProviderProcess, school: int, api_type: int) -> ResourceState:
    """What the engine holds for a managed integration (as after an earlier `pulumi up`)."""
    props = process.with_provider(
        {
            "school_id": school,
            "api_type_id": api_type,
            "active": False,
            "deactivate_on_destroy": True,
        }
    )
    struct = to_struct(props)
    return ResourceState(
        EngineStack.urn(f"s-{school}-{api_type}"), f"{school}/{api_type}", struct, struct
    )


def refresh_all(emu: RunningEmulator, keys: list[tuple[int, int]]) -> tuple[list[Any], int]:
    with ProviderProcess(emu.stack_config()) as process:
        stack = EngineStack(process)
        states = [state_for(process, s, t) for s, t in keys]
        emu.admin.clear_requests()
        with ThreadPoolExecutor(4) as pool:  # the engine's 4 calls in flight
            results = list(pool.map(stack.refresh, states))
        return results, emu.admin.count(method="GET")


@pytest.mark.parametrize(("schools", "managed"), [(150, 300), (150, 3), (150, 9), (40, 80)])
def test_refresh_request_count_is_bounded(
    d6_emulator: RunningEmulator, schools: int, managed: int
) -> None:
    d6_emulator.admin.reset(seed=schools)
    total = schools * 2
    keys = [(1000 + i // 2, 8 + i % 2) for i in range(total)][:managed]
    for s, t in keys[::7]:
        d6_emulator.admin.set_active(s, t, True)
    results, requests = refresh_all(d6_emulator, keys)
    listing = math.ceil(total / PAGE)
    print(f"\nrefresh N={managed} of T={total}: {requests} list requests")
    if managed <= TARGETED_READS:
        assert requests == managed, "a few reads stay targeted: one request each"
    else:
        # 8 targeted reads, then one paged listing. This meets min(N, ceil(T/50) + 8) except
        # for 8 < N < ceil(T/50) + 8, where it costs ceil(T/50) + 8 (docs/BENCHMARKS.md, "Refresh
        # between 8 and ceil(T/50) + 8 resources").
        assert requests <= TARGETED_READS + listing
    active = {(s, t) for s, t in keys[::7]}
    for (s, t), result in zip(keys, results, strict=True):
        assert result.state is not None
        assert result.state.outs["active"] is ((s, t) in active), "each read shows the live state"


def test_revoked_integrations_are_dropped_from_the_listing_without_a_request(
    d6_emulator: RunningEmulator,
) -> None:
    d6_emulator.admin.reset(seed=30)
    keys = [(1000 + i // 2, 8 + i % 2) for i in range(60)]
    d6_emulator.admin.revoke(1029, 9)
    results, requests = refresh_all(d6_emulator, keys)
    assert results[-1].action == "gone"
    assert sum(r.action == "gone" for r in results) == 1
    assert requests <= TARGETED_READS + 2


def client_for(emu: RunningEmulator) -> D6Client:
    return D6Client(resolve_settings(emu.settings(), env={}))


def test_a_second_read_of_the_same_integration_asks_d6_again(d6_emulator: RunningEmulator) -> None:
    d6_emulator.admin.reset(seed=10)
    reader = BulkReader(client_for(d6_emulator), targeted_reads=0)
    assert reader.get(1005, 8) is not None  # fetches the listing
    d6_emulator.admin.set_active(1005, 8, True)
    d6_emulator.admin.clear_requests()
    again = reader.get(1005, 8)
    assert again is not None
    assert again.active is True, "an entry is handed out once; the next read is fresh"
    assert d6_emulator.admin.count() == 1


def test_listing_expires(d6_emulator: RunningEmulator) -> None:
    d6_emulator.admin.reset(seed=10)
    now = [0.0]
    reader = BulkReader(client_for(d6_emulator), targeted_reads=0, ttl=60, clock=lambda: now[0])
    reader.get(1000, 8)
    d6_emulator.admin.set_active(1001, 8, True)
    now[0] = 61.0
    found = reader.get(1001, 8)
    assert found is not None
    assert found.active is True


def test_own_state_changes_update_held_entries(d6_emulator: RunningEmulator) -> None:
    d6_emulator.admin.reset(seed=10)
    reader = BulkReader(client_for(d6_emulator), targeted_reads=0)
    reader.get(1000, 8)
    reader.note(1002, 9, True)
    d6_emulator.admin.clear_requests()
    found = reader.get(1002, 9)
    assert found is not None
    assert found.active is True
    assert d6_emulator.admin.count() == 0


def test_an_integration_changed_after_the_listing_is_not_taken_for_revoked(
    d6_emulator: RunningEmulator,
) -> None:
    d6_emulator.admin.reset(seed=5)
    reader = BulkReader(client_for(d6_emulator), targeted_reads=0)
    assert reader.get(1000, 8) is not None  # the listing: schools 1000-1004
    d6_emulator.admin.authorise(2000, 8)
    client_for(d6_emulator).activate(2000, 8)
    reader.note(2000, 8, True)  # what the provider does after its own change
    found = reader.get(2000, 8)
    assert found is not None
    assert found.active is True


def test_first_reads_are_targeted(d6_emulator: RunningEmulator) -> None:
    d6_emulator.admin.reset(seed=10)
    reader = BulkReader(client_for(d6_emulator))
    for i in range(TARGETED_READS):
        reader.get(1000 + i, 8)
    assert d6_emulator.admin.count() == TARGETED_READS
    reader.get(1009, 9)
    assert d6_emulator.admin.count() == TARGETED_READS + 1, (
        "20 integrations: one listing page of 50"
    )
