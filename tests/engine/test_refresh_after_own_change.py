"""Refresh in the process that just changed an integration the listing had not seen.

After ``TARGETED_READS`` reads a provider process answers refresh from one full listing. An
integration a school authorised after that listing, and that this same process then created,
is not in it; a later read must ask d6 rather than take the absence for a revocation (which
would drop a live, active integration from state).
"""

from __future__ import annotations

from pulumi_d6.bulkread import TARGETED_READS
from pulumi_d6.emulator.pytest_plugin import RunningEmulator
from pulumi_d6.testing.engine import EngineStack, ProviderProcess, ResourceState

LISTED = range(1000, 1000 + TARGETED_READS + 1)  # one more read than the targeted ones
LATE = 2000  # authorised after the listing was taken


def created(stack: EngineStack, school: int) -> ResourceState:
    result = stack.up(f"s{school}", {"school_id": school, "api_type_id": 8})
    assert result.state is not None
    return result.state


def list_queries(emu: RunningEmulator) -> list[str]:
    return [e["query"] for e in emu.admin.requests()["entries"] if e["method"] == "GET"]


def test_a_refresh_after_this_process_created_it_asks_d6_instead_of_dropping_it(
    d6_emulator: RunningEmulator,
) -> None:
    for school in LISTED:
        d6_emulator.admin.authorise(school, 8)
    with ProviderProcess(d6_emulator.stack_config()) as process:
        stack = EngineStack(process)
        states = [created(stack, school) for school in LISTED]
        d6_emulator.admin.clear_requests()
        for state in states:
            assert stack.refresh(state).state is not None
        queries = list_queries(d6_emulator)
        assert len(queries) == TARGETED_READS + 1
        assert all("school_id=" in q for q in queries[:TARGETED_READS])
        assert "school_id=" not in queries[-1], "the last read took the whole listing"

        d6_emulator.admin.authorise(LATE, 8)
        late = created(stack, LATE)
        d6_emulator.admin.clear_requests()
        refreshed = stack.refresh(late)

        assert refreshed.action == "refresh", "not dropped as if the school had revoked it"
        assert refreshed.state is not None
        assert refreshed.state.id == f"{LATE}/8"
        assert refreshed.state.outs["active"] is True
        (query,) = list_queries(d6_emulator)
        assert f"school_id={LATE}" in query, "it asked d6 about this one integration"
