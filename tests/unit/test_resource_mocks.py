"""Program wiring under ``pulumi.runtime.set_mocks``: type token, inputs, typed outputs, pickle."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dill
import pulumi
import pytest
from pulumi.output import Unknown

from pulumi_d6 import ClientIntegration, ClientIntegrationProvider
from pulumi_d6.errors import InvalidValueError
from pulumi_d6.stackfile import StackFileError
from pulumi_d6.testing import InvalidInputsError, authorised, run_program, run_project

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


# ------------------------------------------------- pulumi_d6.testing, for users


PROJECT_FILE = "name: acme-schools\nruntime: python\nmain: src\n"
STACK_FILE = """\
config:
  d6:username: acme
  d6:password:
    secure: v1:AAAAencrypted
  acme-schools:apiType: "8"
"""
USER_PROGRAM = """\
import pulumi
from pulumi_d6 import ClientIntegration, get_client_integrations
from helpers import NAME_PREFIX  # a module beside the program, as Pulumi allows

config = pulumi.Config()
api_type = int(config.require("apiType"))
for found in get_client_integrations(api_type_id=api_type):
    ClientIntegration(
        f"{NAME_PREFIX}{found.school_id}",
        school_id=found.school_id,
        api_type_id=found.api_type_id,
        opts=pulumi.ResourceOptions(protect=found.school_id == 1000, ignore_changes=["active"]),
    )
pulumi.export("password_set", pulumi.Config("d6").get("password") is not None)
pulumi.export("count", api_type)
"""


@pytest.fixture
def user_project(tmp_path: Path) -> Path:
    (tmp_path / "Pulumi.yaml").write_text(PROJECT_FILE)
    (tmp_path / "Pulumi.prod.yaml").write_text(STACK_FILE)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "__main__.py").write_text(USER_PROGRAM)
    (tmp_path / "src" / "helpers.py").write_text('NAME_PREFIX = "school-"\n')
    return tmp_path


def test_run_project_runs_a_users_program_with_its_stack_file_and_a_fake_listing(
    user_project: Path,
) -> None:
    listing = [authorised(1000, 8), authorised(1001, 8, active=True), authorised(1002, 9)]
    run = run_project(user_project, "prod", listing=listing)
    assert (run.project, run.stack) == ("acme-schools", "prod")
    assert [(i.name, i.id) for i in run.integrations] == [
        ("school-1000", "1000/8"),
        ("school-1001", "1001/8"),
    ], "the program's lookup got only API type 8 from the listing"
    first = run.named("school-1000")
    assert first.inputs == {
        "school_id": 1000,
        "api_type_id": 8,
        "active": True,
        "deactivate_on_destroy": True,
    }
    assert type(first.inputs["school_id"]) is int
    assert first.options.protect is True
    assert run.named("school-1001").options.protect is False
    assert first.options.ignore_changes == ("active",)
    assert sorted(first.options.additional_secret_outputs) == [
        "admin_email_address",
        "telephone_number",
    ]
    assert run.exports == {"password_set": False, "count": 8}, "secure values are left out"
    assert Path.cwd() != user_project


def test_run_project_config_overrides_the_stack_file(user_project: Path) -> None:
    run = run_project(
        user_project,
        "prod",
        listing=[authorised(1000, 9)],
        config={"acme-schools:apiType": "9", "d6:password": "given-in-test"},
    )
    assert [i.id for i in run.integrations] == ["1000/9"]
    assert run.exports["password_set"] is True


def test_an_empty_listing_is_the_default_and_never_reaches_d6(user_project: Path) -> None:
    """No credentials, no network: without the stand-in the lookup would fail on settings."""
    run = run_project(user_project, "prod")
    assert run.integrations == []


def test_named_says_what_was_registered(user_project: Path) -> None:
    run = run_project(user_project, "prod", listing=[authorised(1000, 8)])
    with pytest.raises(KeyError, match="no ClientIntegration named 'school-9' "):
        run.named("school-9")
    with pytest.raises(KeyError, match=r"registered: school-1000\)"):
        run.named("school-9")


def test_run_project_says_when_the_folder_is_not_a_project(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"Pulumi\.yaml does not exist: is this a Pulumi"):
        run_project(tmp_path, "prod")


def test_run_project_reads_the_files_as_the_cli_tools_do(user_project: Path) -> None:
    with pytest.raises(StackFileError, match=r"Pulumi\.dev\.yaml: no such file"):
        run_project(user_project, "dev")
    (user_project / "Pulumi.prod.yaml").write_text("config: [a]\n")
    with pytest.raises(StackFileError, match=r"Pulumi\.prod\.yaml: config must be a mapping"):
        run_project(user_project, "prod")
    (user_project / "Pulumi.yaml").write_text("runtime: python\n")
    with pytest.raises(StackFileError, match=r"Pulumi\.yaml: has no project name"):
        run_project(user_project, "prod")


def test_run_program_reports_options_and_exports_of_a_function() -> None:
    def program() -> None:
        first = ClientIntegration("a", school_id=1000, api_type_id=8, active=False)
        ClientIntegration(
            "b",
            school_id=1001,
            api_type_id=8,
            deactivate_on_destroy=False,
            opts=pulumi.ResourceOptions(depends_on=[first], retain_on_delete=True),
        )
        pulumi.export("ids", [first.id])

    run = run_program(program)
    a, b = run.integrations
    assert (a.active, a.deactivate_on_destroy) == (False, True)
    assert (b.active, b.deactivate_on_destroy) == (True, False)
    assert b.options.retain_on_delete is True
    assert b.options.depends_on == ("a",)
    assert run.exports == {"ids": ["1000/8"]}


def test_integrations_come_back_in_the_order_the_program_created_them() -> None:
    """The engine registers from worker threads; a test comparing lists must not be flaky."""
    schools = list(range(1060, 1000, -1))

    def program() -> None:
        for school in schools:
            ClientIntegration(f"school-{school}", school_id=school, api_type_id=8)

    for _ in range(3):
        run = run_program(program)
        assert [i.name for i in run.integrations] == [f"school-{s}" for s in schools]


# ---------------------------------------- what a newcomer tripped on (bare keys, checks, outputs)


def test_a_bare_config_key_is_the_projects_as_in_a_stack_file(user_project: Path) -> None:
    (user_project / "Pulumi.prod.yaml").write_text("config:\n  apiType: '9'\n")
    run = run_project(user_project, "prod", listing=[authorised(1000, 9)])
    assert [i.id for i in run.integrations] == ["1000/9"]
    assert run.config_value("apiType") == "9"
    again = run_project(
        user_project, "prod", listing=[authorised(1000, 8)], config={"apiType": "8"}
    )
    assert [i.id for i in again.integrations] == ["1000/8"], "a bare key in config= overrides"


def test_run_program_reads_a_bare_integrations_key_as_the_projects() -> None:
    entries = [{"schoolId": 1000, "apiTypeId": 8}]

    def program() -> None:
        config = pulumi.Config()
        for entry in config.require_object("integrations"):
            ClientIntegration(
                f"school-{entry['schoolId']}",
                school_id=entry["schoolId"],
                api_type_id=entry["apiTypeId"],
            )

    run = run_program(program, {"integrations": entries})
    assert [i.id for i in run.integrations] == ["1000/8"]
    assert run.config_value("integrations") == entries
    assert run.config_value("d6-integrations:integrations") == entries


@pytest.mark.parametrize(
    ("school_id", "reason"),
    [
        (1000.5, "school_id must be a whole number greater than 0, got 1000.5"),
        (-3, "school_id must be a whole number greater than 0, got -3"),
    ],
)
def test_a_bad_input_fails_the_run_with_the_providers_check_text(
    school_id: Any, reason: str
) -> None:
    def program() -> None:
        ClientIntegration("bad", school_id=school_id, api_type_id=8)

    with pytest.raises(InvalidInputsError) as caught:
        run_program(program)
    assert str(caught.value) == f"ClientIntegration 'bad': school_id: {reason}"


def test_outputs_are_what_the_provider_would_give_names_from_the_listing() -> None:
    def program() -> None:
        listed = ClientIntegration("listed", school_id=1000, api_type_id=8)
        unlisted = ClientIntegration("unlisted", school_id=1001, api_type_id=8, active=False)
        pulumi.export("school", listed.school_name)
        pulumi.export("api_type", listed.api_type)
        pulumi.export("unlisted", unlisted.school_name)
        pulumi.export("active", unlisted.active)

    run = run_program(program, listing=[authorised(1000, 8, school_name="Acme High")])
    assert run.exports == {
        "school": "Acme High",
        "api_type": "",
        "unlisted": "",
        "active": False,
    }


FAILING_RUN = """\
import asyncio
import gc
import sys
from pulumi_d6.testing import run_program, run_project
try:
    run_project(sys.argv[1], "prod")
except Exception as exc:
    print("raised:", type(exc).__name__)
loops = [o for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop)]
print("open loops:", sum(not loop.is_closed() for loop in loops))
del loops
gc.collect()
print("then:", run_program(lambda: None).integrations)
gc.collect()
"""


def test_a_failed_run_prints_nothing_but_its_error(user_project: Path, tmp_path: Path) -> None:
    """No event loop left for the collector (its ``__del__`` may print ``ValueError: Invalid
    file descriptor: -1``), no "Future exception was never retrieved" for the error raised."""
    (user_project / "src" / "__main__.py").write_text(
        "from pulumi_d6 import ClientIntegration\n"
        "ClientIntegration('bad', school_id=1000.5, api_type_id=8)\n"
    )
    script = tmp_path / "fail.py"
    script.write_text(FAILING_RUN)
    done = subprocess.run(
        [sys.executable, str(script), str(user_project)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "raised: InvalidInputsError\nopen loops: 0\nthen: []\n",
        "",
    )


def test_a_preview_input_not_known_yet_is_registered_as_unknown() -> None:
    """The engine's check lets an unknown through; the mocks do not fail on it either."""

    def program() -> None:
        later = pulumi.Output(set(), _resolved(1000), _resolved(False))  # known: False
        ClientIntegration("later", school_id=later, api_type_id=8)

    run = run_program(program, preview=True)
    (later,) = run.integrations
    assert isinstance(later.inputs["school_id"], Unknown)
    assert later.inputs["api_type_id"] == 8


def _resolved(value: Any) -> asyncio.Future[Any]:
    future: asyncio.Future[Any] = asyncio.get_event_loop().create_future()
    future.set_result(value)
    return future


def test_a_listing_entry_that_is_not_authorised_says_what_to_write() -> None:
    bad: Any = [authorised(1000, 8), (1, 2)]
    with pytest.raises(
        TypeError,
        match=r"^listing\[1\] is a tuple \(\(1, 2\)\), not a listing entry: write "
        r"authorised\(school_id, api_type_id\) from pulumi_d6.testing$",
    ):
        run_program(lambda: None, listing=bad)


@pytest.mark.parametrize(
    ("school_id", "api_type_id", "message"),
    [
        (-1, 9, "school_id must be a whole number greater than 0, got -1"),
        (0, 9, "school_id must be a whole number greater than 0, got 0"),
        (1000, 2**53, "api_type_id must be a whole number greater than 0 and below 2**53"),
        (1000, True, "api_type_id must be a whole number greater than 0, got a boolean (true)"),
    ],
)
def test_authorised_refuses_ids_as_the_provider_does(
    school_id: Any, api_type_id: Any, message: str
) -> None:
    with pytest.raises(InvalidValueError) as raised:
        authorised(school_id, api_type_id)
    assert str(raised.value).startswith(message)
