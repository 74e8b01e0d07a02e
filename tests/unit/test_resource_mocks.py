"""Program wiring under ``pulumi.runtime.set_mocks``: type token, inputs, typed outputs, pickle."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any

import dill
import pulumi
import pytest

from pulumi_d6 import ClientIntegration, ClientIntegrationProvider

PASSWORD = "Mocks-Env-Pw-2290"


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.created: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.created.append(args)
        outs = {k: v for k, v in args.inputs.items() if k != "__provider"}
        outs.update(
            school_name="Mock School",
            admin_email_address="a@b.test",
            telephone_calling_code="27",
            telephone_number="011",
            api_type="Admin+ API",
        )
        return f"{int(outs['school_id'])}/{int(outs['api_type_id'])}", outs

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


@pytest.fixture
def mocks(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mocks]:
    monkeypatch.setenv("D6_PASSWORD", PASSWORD)
    loop = asyncio.new_event_loop()  # earlier asyncio.run() calls leave no current loop
    asyncio.set_event_loop(loop)
    m = Mocks()
    pulumi.runtime.set_mocks(m, project="d6-integrations", stack="dev", preview=False)
    yield m
    asyncio.set_event_loop(None)
    loop.close()


def test_registration_inputs_outputs_and_provider(mocks: Mocks) -> None:
    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[Any]:
        res = ClientIntegration("school-1000", school_id=1000, api_type_id=8, active=False)

        def verify(values: list[Any]) -> None:
            school_id, api_type_id, active, dod, name, id_ = values
            assert (school_id, api_type_id, active, dod) == (1000, 8, False, True)
            assert type(school_id) is int, "Output[int] casts the wire's double back to int"
            assert type(api_type_id) is int
            assert name == "Mock School"
            assert id_ == "1000/8"
            args = mocks.created[0]
            assert args.typ == "pulumi-python:dynamic/d6:ClientIntegration"
            assert args.name == "school-1000"
            assert set(args.inputs) == {
                "__provider",
                "school_id",
                "api_type_id",
                "active",
                "deactivate_on_destroy",
            }
            assert args.inputs["school_id"] == 1000.0
            raw = base64.b64decode(args.inputs["__provider"])
            assert PASSWORD.encode() not in raw
            restored = dill.loads(raw)
            assert isinstance(restored, ClientIntegrationProvider)
            assert vars(restored) == {}

        return pulumi.Output.all(
            res.school_id,
            res.api_type_id,
            res.active,
            res.deactivate_on_destroy,
            res.school_name,
            res.id,
        ).apply(verify)

    program()


def test_inputs_may_be_outputs(mocks: Mocks) -> None:
    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[Any]:
        school = pulumi.Output.from_input(1001)
        res = ClientIntegration(
            "from-output", school_id=school, api_type_id=pulumi.Output.from_input(9)
        )
        return res.id.apply(lambda id_: _assert_eq(id_, "1001/9"))

    program()


def _assert_eq(left: Any, right: Any) -> None:
    assert left == right
