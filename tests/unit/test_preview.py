"""check-preview's reading of `pulumi preview --json`, on fixtures shaped like Pulumi's own JSON.

The fixtures follow Pulumi 3.260's `PreviewDigest` (pkg/display/json.go) and `apitype.ResourceV3`
(sdk/go/common/apitype/core.go); docs/CHECK_PREVIEW.md says what each step in plan.json shows.
"""

from __future__ import annotations

import base64
import copy
import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from pulumi_d6.models import ClientIntegrationInfo
from pulumi_d6.preview import (
    UNKNOWN,
    Deactivation,
    Limit,
    PreviewCheck,
    PreviewFileError,
    only_active_now,
    planned_deactivations,
    read_digest,
    resolve_limit,
)

FIXTURES = Path(__file__).parent / "fixtures" / "pulumi-preview"
PLAN = (FIXTURES / "plan.json").read_text()
NOOP = (FIXTURES / "noop.json").read_text()
REMOVES = "removes an active integration with deactivate_on_destroy"


def plan() -> dict[str, Any]:
    digest: dict[str, Any] = json.loads(PLAN)
    return digest


def step_of(digest: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in digest["steps"] if s["urn"].endswith(f"::{name}"))
    return found


def deactivations(digest: dict[str, Any] | str) -> list[tuple[str, str, int | None, str]]:
    text = digest if isinstance(digest, str) else json.dumps(digest)
    return [
        (d.op, d.name, d.school_id, d.reason)
        for d in planned_deactivations(read_digest(text, "preview.json"), "preview.json")
    ]


def test_the_plan_fixture_counts_each_kind_of_deactivation_once() -> None:
    assert deactivations(PLAN) == [
        ("delete", "school-1000-api-8", 1000, REMOVES),
        ("replace", "school-1003-api-8", 1003, REMOVES),
        ("update", "school-1004-api-8", 1004, "sets active to false"),
        ("update", "school-1005-api-8", 1005, "sets active to a value not known yet"),
        (
            "create",
            "school-1008-api-8",
            1008,
            "created with active: false (deactivates it if d6 has it active)",
        ),
        ("update", "school-1010-api-8", 1010, "sets active to a secret value (may be false)"),
        ("delete", "school-1011-api-8", 1011, REMOVES),
    ]


def test_a_no_op_preview_plans_nothing() -> None:
    assert deactivations(NOOP) == []


def test_changing_only_deactivate_on_destroy_or_activating_is_not_a_deactivation() -> None:
    digest = plan()
    digest["steps"] = [step_of(digest, f"school-{n}-api-8") for n in (1006, 1007, 1009)]
    assert deactivations(digest) == []


def test_a_delete_that_only_forgets_or_finds_it_inactive_or_retained_is_not_counted() -> None:
    digest = plan()
    digest["steps"] = [step_of(digest, f"school-{n}-api-8") for n in (1001, 1002, 1012)]
    assert deactivations(digest) == []


def test_other_resource_types_and_other_dynamic_providers_are_ignored() -> None:
    digest = plan()
    digest["steps"] = [step_of(digest, "suffix"), step_of(digest, "widget")]
    assert deactivations(digest) == []


def test_the_ids_come_from_the_old_state_for_a_replace() -> None:
    digest = plan()
    digest["steps"] = [step_of(digest, "school-1003-api-8")]
    [item] = planned_deactivations(read_digest(json.dumps(digest), "p"), "p")
    assert item.key == (1003, 8)  # the new state asks for 1033; 1003 is the one deactivated


def test_a_replacement_created_inactive_counts_as_well() -> None:
    digest = plan()
    step = step_of(digest, "school-1003-api-8")
    step["newState"]["inputs"]["active"] = False
    digest["steps"] = [step]
    assert deactivations(digest) == [
        ("replace", "school-1003-api-8", 1003, REMOVES),
        (
            "replace",
            "school-1003-api-8",
            1033,
            "replacement created with active: false (deactivates it if d6 has it active)",
        ),
    ]


def test_replacement_steps_shown_with_show_replacement_steps_are_not_counted_twice() -> None:
    digest = plan()
    replace = step_of(digest, "school-1003-api-8")
    create = {**copy.deepcopy(replace), "op": "create-replacement"}
    delete = {**copy.deepcopy(replace), "op": "delete-replaced"}
    digest["steps"] = [create, replace, delete]
    assert [d[0] for d in deactivations(digest)] == ["replace"]


def test_an_unknown_id_is_reported_as_unknown() -> None:
    digest = plan()
    step = step_of(digest, "school-1008-api-8")
    step["newState"]["inputs"]["school_id"] = UNKNOWN
    digest["steps"] = [step]
    [item] = planned_deactivations(read_digest(json.dumps(digest), "p"), "p")
    assert (item.school_id, item.api_type_id, item.key) == (None, 8, None)


class _Boom:
    """A pickle that would write a file if anything loaded it."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.write_text, (self.target, "ran"))


def test_a_provider_pickle_is_never_loaded(tmp_path: Path) -> None:
    target = tmp_path / "ran"
    digest = plan()
    step = step_of(digest, "school-1011-api-8")
    hostile = base64.b64encode(pickle.dumps(_Boom(target))).decode()
    step["oldState"]["inputs"]["__provider"] = hostile
    step["oldState"]["outputs"]["__provider"] = hostile
    digest["steps"] = [step]
    assert deactivations(digest) == []
    assert not target.exists()


@pytest.mark.parametrize("provider", ["[secret]", UNKNOWN, "not base64!", "aGVsbG8=", 7, None])
def test_a_generic_dynamic_resource_with_an_unreadable_provider_is_not_ours(
    provider: Any,
) -> None:
    digest = plan()
    step = step_of(digest, "school-1011-api-8")
    step["oldState"]["inputs"]["__provider"] = provider
    step["oldState"]["outputs"]["__provider"] = provider
    digest["steps"] = [step]
    assert deactivations(digest) == []


def _with(change: Any) -> str:
    digest = plan()
    change(digest)
    return json.dumps(digest)


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def change(digest: dict[str, Any]) -> None:
        target: Any = digest
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _drop(index: int, key: str) -> Any:
    return lambda digest: digest["steps"][index].pop(key)


BAD_INPUTS = [
    (
        "",
        "preview.json is empty: `pulumi preview --json` printed nothing (did the preview fail?)",
    ),
    (
        "Previewing update (prod):\n",
        "preview.json is not JSON (line 1 column 1: Expecting value); give the output of "
        "`pulumi preview --json`",
    ),
    (
        "[1, 2]",
        "preview.json is not the output of `pulumi preview --json` (expected a JSON object "
        "with steps, got [1, 2])",
    ),
    (
        '{"version": 3, "deployment": {}}',
        "preview.json is not the output of `pulumi preview --json`: it looks like `pulumi "
        "stack export`; run `pulumi preview --json` instead",
    ),
    (
        '{"result": "succeeded", "summary": {}, "resources": []}',
        "preview.json is not the output of `pulumi preview --json`: it looks like `--output "
        "json`, which carries no resource states; run `pulumi preview --json` instead",
    ),
    (
        '{"changeSummary": {}}',
        "preview.json is not the output of `pulumi preview --json`: it has no steps (keys: "
        "changeSummary)",
    ),
    ("[" * 100_000, "preview.json is nested too deeply to be a Pulumi preview"),
    ('{"steps": {}}', "preview.json: steps must be a list, got {}"),
    ('{"steps": ["same"]}', "preview.json: steps[0] must be an object with op and urn, got 'same'"),
    (
        _with(_drop(1, "op")),
        "preview.json: steps[1].op must be a non-empty string, got None",
    ),
    (
        _with(_set(("steps", 1, "urn"), "school-1000-api-8")),
        "preview.json: steps[1].urn is not a Pulumi URN (urn:pulumi:STACK::PROJECT::TYPE::NAME): "
        "'school-1000-api-8'",
    ),
    (
        _with(_set(("steps", 1, "oldState"), "gone")),
        "preview.json: steps[1].oldState must be an object, got 'gone'",
    ),
    (
        _with(_set(("steps", 5, "newState", "inputs"), [1])),
        "preview.json: steps[5].newState.inputs must be an object, got [1]",
    ),
    (
        _with(_drop(1, "oldState")),
        "preview.json: steps[1] (delete 'urn:pulumi:prod::my-d6::pulumi-python:dynamic/d6:"
        "ClientIntegration::school-1000-api-8') has no oldState; Pulumi writes one for every "
        "delete",
    ),
    (
        _with(_drop(9, "newState")),
        "preview.json: steps[9] (create 'urn:pulumi:prod::my-d6::pulumi-python:dynamic/d6:"
        "ClientIntegration::school-1008-api-8') has no newState; Pulumi writes one for every "
        "create",
    ),
    (
        _with(_set(("diagnostics",), "none")),
        "preview.json: diagnostics must be a list, got 'none'",
    ),
    (
        _with(
            _set(
                ("diagnostics",),
                [
                    {"message": "warn", "severity": "warning"},
                    {"message": "error: d6 unreachable\n  at line 3", "severity": "error"},
                ],
            )
        ),
        "preview.json: the preview failed (1 error diagnostic, first: error: d6 unreachable at "
        "line 3); fix it and preview again",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_INPUTS, ids=[m[:60] for _, m in BAD_INPUTS])
def test_input_that_is_not_a_preview_is_refused_with_a_clear_message(
    text: str, message: str
) -> None:
    with pytest.raises(PreviewFileError) as caught:
        planned_deactivations(read_digest(text, "preview.json"), "preview.json")
    assert str(caught.value) == message


def test_the_limit_comes_from_the_flag_then_the_stack_file_then_the_environment() -> None:
    config = {"d6:maxDeactivations": "3"}
    env = {"D6_MAX_DEACTIVATIONS": "7"}
    assert resolve_limit("unlimited", config, "Pulumi.prod.yaml", env) == Limit(
        None, "--max-deactivations"
    )
    assert resolve_limit(None, config, "Pulumi.prod.yaml", env) == Limit(
        3, "d6:maxDeactivations in Pulumi.prod.yaml", stack="prod"
    )
    assert resolve_limit(None, {"d6:maxDeactivations": 4}, "P.yaml", env).value == 4
    assert resolve_limit(None, {}, "Pulumi.prod.yaml", env) == Limit(7, "D6_MAX_DEACTIVATIONS")
    assert resolve_limit(None, {}, "Pulumi.prod.yaml", {}) == Limit(
        10, "d6:maxDeactivations default; Pulumi.prod.yaml does not set it"
    )


@pytest.mark.parametrize(
    ("flag", "config", "message"),
    [
        (
            None,
            None,
            "give the limit: --max-deactivations N (or unlimited), or --stack-config FILE to "
            "use the stack's d6:maxDeactivations",
        ),
        ("-1", None, "--max-deactivations must be a whole number >= 0, or unlimited, got '-1'"),
        (
            None,
            {"d6:maxDeactivations": "ten"},
            "d6:maxDeactivations in Pulumi.prod.yaml must be a whole number >= 0, or unlimited, "
            "got 'ten'",
        ),
        (
            None,
            {"d6:maxDeactivations": True},
            "d6:maxDeactivations in Pulumi.prod.yaml must be a whole number >= 0, or unlimited, "
            "got True",
        ),
    ],
)
def test_a_bad_or_missing_limit_is_refused(
    flag: str | None, config: dict[str, Any] | None, message: str
) -> None:
    with pytest.raises(PreviewFileError) as caught:
        resolve_limit(flag, config, "Pulumi.prod.yaml", {})
    assert str(caught.value) == message


def _item(school: int | None, name: str = "school-x") -> Deactivation:
    urn = f"urn:pulumi:prod::my-d6::pulumi-python:dynamic/d6:ClientIntegration::{name}"
    return Deactivation("delete", urn, school, 8, REMOVES)


def test_live_keeps_only_what_d6_shows_active_and_what_is_not_known_yet() -> None:
    def info(school: int, active: bool) -> ClientIntegrationInfo:
        return ClientIntegrationInfo(school_id=school, api_type_id=8, active=active)

    items = [_item(1000), _item(1001), _item(1002), _item(None)]
    kept = only_active_now(items, [info(1000, True), info(1001, False)])
    assert [i.school_id for i in kept] == [1000, None]


def test_markdown_over_the_limit_names_the_source_and_how_to_raise_it() -> None:
    check = PreviewCheck(
        (_item(1000, "a|b"), _item(1001)), Limit(1, "d6:maxDeactivations in Pulumi.prod.yaml")
    )
    assert not check.within_limit
    assert check.to_markdown() == (
        "## d6 deactivations planned by this preview\n\n"
        "❌ 2 planned deactivations, limit 1 (d6:maxDeactivations in Pulumi.prod.yaml): "
        "OVER THE LIMIT. If this is intended, raise d6:maxDeactivations to 2 or more in the "
        "stack file, in this pull request (pulumi config set d6:maxDeactivations 2)\n\n"
        "| resource | school | API type | step | why |\n"
        "|---|---:|---:|---|---|\n"
        f"| a\\|b | 1000 | 8 | delete | {REMOVES} |\n"
        f"| school-x | 1001 | 8 | delete | {REMOVES} |\n"
    )


def test_within_the_limit_and_unlimited() -> None:
    assert PreviewCheck((_item(1),), Limit(1, "--max-deactivations")).within_limit
    assert PreviewCheck((_item(1),) * 500, Limit(None, "--max-deactivations")).within_limit
    assert not PreviewCheck((_item(1),), Limit(0, "--max-deactivations")).within_limit


def test_a_create_without_active_is_active_as_the_resource_defaults() -> None:
    digest = plan()
    step = step_of(digest, "school-1008-api-8")
    del step["newState"]["inputs"]["active"]
    digest["steps"] = [step]
    assert deactivations(digest) == []


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_our_provider_is_recognised_in_any_pickle_protocol(protocol: int) -> None:
    from pulumi_d6 import ClientIntegrationProvider

    digest = plan()
    step = step_of(digest, "school-1011-api-8")
    ours = base64.b64encode(pickle.dumps(ClientIntegrationProvider(), protocol=protocol))
    step["oldState"]["inputs"]["__provider"] = ours.decode()
    del step["oldState"]["outputs"]["__provider"]
    digest["steps"] = [step]
    assert deactivations(digest) == [("delete", "school-1011-api-8", 1011, REMOVES)]
