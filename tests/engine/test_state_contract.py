"""The state contract: every stack's state holds the serialized provider, by reference.

``__provider`` is a dill pickle that names ``pulumi_d6.provider.ClientIntegrationProvider``.
Moving or renaming the class would strand every existing stack (its refresh and destroy could
no longer load the provider), so the name is pinned here, and a value written by release 0.1.0
must still load in ``python -m pulumi.dynamic`` and serve read and delete.
"""

from __future__ import annotations

import base64
import io
import json
import pickle
from pathlib import Path
from typing import Any

from pulumi.dynamic.dynamic import PROVIDER_KEY, serialize_provider

from pulumi_d6.emulator.pytest_plugin import RunningEmulator
from pulumi_d6.provider import ClientIntegrationProvider
from pulumi_d6.testing.engine import EngineStack, ProviderProcess, ResourceState, to_struct

RELEASED = json.loads((Path(__file__).parents[1] / "data" / "provider-0.1.0.json").read_text())
REFERENCE = ("pulumi_d6.provider", "ClientIntegrationProvider")


class _Names(pickle.Unpickler):
    """Records every global a pickle names instead of importing it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self.names: list[tuple[str, str]] = []

    def find_class(self, module: str, name: str) -> Any:
        self.names.append((module, name))
        return type(name, (), {})


def names_in(serialized: str) -> list[tuple[str, str]]:
    reader = _Names(base64.b64decode(serialized))
    reader.load()
    return reader.names


def test_the_provider_is_serialized_by_reference_to_its_stable_name() -> None:
    configured = ClientIntegrationProvider()
    assert names_in(serialize_provider(configured)) == [REFERENCE]


def test_the_released_value_names_the_same_class() -> None:
    assert names_in(RELEASED[PROVIDER_KEY]) == [REFERENCE]


def released_state(school: int, active: bool) -> ResourceState:
    """State as release 0.1.0 wrote it after `pulumi up`: inputs and outputs with its pickle."""
    props = {
        "school_id": school,
        "api_type_id": 8,
        "active": active,
        "deactivate_on_destroy": True,
        PROVIDER_KEY: RELEASED[PROVIDER_KEY],
    }
    struct = to_struct(props)
    return ResourceState(EngineStack.urn(f"s{school}"), f"{school}/8", struct, struct)


def test_state_written_by_0_1_0_still_refreshes_and_destroys(
    d6_emulator: RunningEmulator,
) -> None:
    d6_emulator.admin.authorise(1000, 8, active=True)
    d6_emulator.admin.authorise(1001, 8, active=False)
    with ProviderProcess(d6_emulator.stack_config()) as process:
        stack = EngineStack(process)
        drifted = stack.refresh(released_state(1001, active=True))
        assert drifted.state is not None
        assert drifted.state.outs["active"] is False, "read served: the live state"
        listed = d6_emulator.admin.integration(1001, 8)
        assert listed is not None
        assert drifted.state.outs["school_name"] == listed.school_name

        stack.destroy(released_state(1000, active=True))
        assert d6_emulator.admin.is_active(1000, 8) is False, "delete served: deactivated"
        assert d6_emulator.password not in process.output
