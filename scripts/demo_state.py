"""The engine-protocol demo's state file (``.demo-state.json``): what Pulumi's state keeps.

For each resource: its URN (as the harness makes it), id, checked inputs and outputs, the
protobuf structs the engine sends back to the provider on the next run. It is written after every
step, as the engine checkpoints, so an interrupted run resumes from what really happened.

Pulumi stores the contact details (``SECRET_OUTPUTS``) encrypted; this file has no encryption,
so it leaves them out. The provider never needs them back: it diffs only declared inputs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from google.protobuf import json_format, struct_pb2

from pulumi_d6.resource import SECRET_OUTPUTS
from pulumi_d6.testing.engine import ResourceState

VERSION = 1


class StateFileError(Exception):
    """The state file is not one this demo wrote."""


def _struct(value: Any) -> Any:
    return json_format.ParseDict(value, struct_pb2.Struct())


def _plain(struct: Any) -> dict[str, Any]:
    result: dict[str, Any] = json_format.MessageToDict(struct)
    return result


def name_of(state: ResourceState) -> str:
    """The resource name: the last part of its URN."""
    return state.urn.rsplit("::", 1)[-1]


class DemoState:
    """The stack's resources by name, in the order they were created."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.resources: dict[str, ResourceState] = {}
        if path.exists():
            self._load()

    def _load(self) -> None:
        problem = f"{self.path} is not a demo state file"
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("version") != VERSION:
                raise StateFileError(f"{problem} (version {data.get('version')!r})")
            for item in data["resources"]:
                state = ResourceState(
                    item["urn"], item["id"], _struct(item["inputs"]), _struct(item["outputs"])
                )
                self.resources[name_of(state)] = state
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StateFileError(f"{problem} ({type(exc).__name__})") from None

    def put(self, state: ResourceState) -> None:
        self.resources[name_of(state)] = state
        self.save()

    def drop(self, name: str) -> None:
        del self.resources[name]
        self.save()

    def save(self) -> None:
        """Write atomically; an empty stack removes the file (``make demo`` starts over)."""
        if not self.resources:
            self.path.unlink(missing_ok=True)
            return
        resources = [
            {
                "urn": state.urn,
                "id": state.id,
                "inputs": _plain(state.inputs),
                "outputs": {
                    k: v for k, v in _plain(state.outputs).items() if k not in SECRET_OUTPUTS
                },
            }
            for state in self.resources.values()
        ]
        text = json.dumps({"version": VERSION, "resources": resources}, indent=2) + "\n"
        partial = self.path.with_name(self.path.name + ".tmp")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, self.path)
