"""drift's rules in-process: the category of each explicit entry, the JSON shape, ``--fail-on``,
the declared side read from a stack file or a stack export, and how one category's rows read.

No test pins the order of the sections or of the summary's parts (that order may change).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pulumi_d6.declarations import ProgramConfig, ProgramConfigError
from pulumi_d6.drift import (
    CATEGORIES,
    DriftReport,
    DriftRow,
    compare,
    from_stack_config,
    from_stack_export,
    parse_fail_on,
    read_stack_export,
    sections,
    to_json,
    to_markdown,
)
from pulumi_d6.errors import InvalidValueError
from pulumi_d6.integration import RESOURCE_TYPE, IntegrationSpec
from pulumi_d6.stackfile import StackFileError
from pulumi_d6.testing import authorised

SECRET = "4dabf18193072939515e22adb298388d"
SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270"


def spec(school: int, active: bool = True, name: str | None = None) -> IntegrationSpec:
    return IntegrationSpec(school, 8, active, school_name=name)


def as_json(report: DriftReport) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(to_json(report))
    return body


# ------------------------------------------------------------------ compare


def test_each_explicit_entry_lands_in_its_one_category() -> None:
    declared = [spec(1000), spec(1001, active=False), spec(1002), spec(1003), spec(1004, False)]
    live = [
        authorised(1000, 8, active=True),  # in sync
        authorised(1001, 8, active=True),  # mismatched: declared inactive
        authorised(1003, 8, active=False),  # mismatched: declared active
        authorised(1004, 8, active=False),  # in sync
        authorised(1005, 8, active=False),  # onboarding
        authorised(1006, 8, active=True),  # unmanaged
    ]  # 1002: revoked
    body = as_json(compare(declared, live))
    assert body == {
        "in_sync": 2,
        "onboarding": [{"school_id": 1005, "api_type_id": 8, "school_name": "School 1005"}],
        "unmanaged_active": [{"school_id": 1006, "api_type_id": 8, "school_name": "School 1006"}],
        "exclusive_deactivate": [],
        "revoked": [{"school_id": 1002, "api_type_id": 8, "school_name": None}],
        "mismatched": [
            {
                "school_id": 1001,
                "api_type_id": 8,
                "school_name": "School 1001",
                "declared_active": False,
                "live_active": True,
            },
            {
                "school_id": 1003,
                "api_type_id": 8,
                "school_name": "School 1003",
                "declared_active": True,
                "live_active": False,
            },
        ],
    }


def test_in_sync_counts_every_agreeing_entry() -> None:
    declared = [spec(school) for school in range(1000, 1005)]
    live = [authorised(school, 8, active=True) for school in range(1000, 1005)]
    report = compare(declared, live)
    assert report.in_sync == 5
    assert report.out_of_sync == 0
    assert report.summary() == "d6 and the code agree: 5 declared integration(s) in sync."


def test_a_revoked_entry_keeps_the_name_the_declaration_knew() -> None:
    report = compare([spec(1000, name="Hillside")], [])
    assert [row.as_json() for row in report.revoked] == [
        {"school_id": 1000, "api_type_id": 8, "school_name": "Hillside"}
    ]


def test_exclusive_mode_reports_its_deactivations_apart_and_spares_the_ignored() -> None:
    program = ProgramConfig(exclusive_api_types=(8,), exclusive_ignore=((1001, 8),))
    live = [authorised(1000, 8, active=True), authorised(1001, 8, active=True)]
    report = compare([], live, program)
    assert [row.school_id for row in report.exclusive_deactivate] == [1000]
    assert [row.school_id for row in report.unmanaged_active] == [1001]
    assert report.failing() == 1
    assert "1 to be deactivated by the next up (exclusive)" in report.summary()
    assert as_json(report)["exclusive_deactivate"] == [
        {"school_id": 1000, "api_type_id": 8, "school_name": "School 1000"}
    ]


# ------------------------------------------------------------------ --fail-on


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("all", CATEGORIES),
        (" ALL ", CATEGORIES),
        ("revoked,mismatched", ("revoked", "mismatched")),
        ("Onboarding, revoked,,", ("onboarding", "revoked")),
        ("revoked,revoked", ("revoked",)),
    ],
)
def test_fail_on_reads_categories(text: str, expected: tuple[str, ...]) -> None:
    assert parse_fail_on(text) == expected


@pytest.mark.parametrize("text", ["", " , ", "revoked,bogus", "all,revoked", "revoked mismatched"])
def test_fail_on_refuses_anything_else_naming_the_choices(text: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        parse_fail_on(text)
    assert str(caught.value) == (
        f"--fail-on {text!r}: expected categories, comma-separated, from onboarding, "
        "unmanaged_active, exclusive_deactivate, revoked, mismatched; or all"
    )


# ------------------------------------------------------------------ declared side


def test_a_stack_file_error_names_the_stack_file_by_default() -> None:
    config = {"d6-integrations:integrations": [{"schoolId": 1000}]}
    with pytest.raises(ProgramConfigError) as caught:
        from_stack_config(config, "d6-integrations", [])
    assert str(caught.value) == (
        "the stack file: d6-integrations:integrations[0].apiTypeId is required"
    )


def test_a_stack_export_is_read_from_text_before_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "export.json"
    assert read_stack_export(missing, '{"deployment": {}}') == {"deployment": {}}
    assert read_stack_export(None, "[]") == []


@pytest.mark.parametrize(
    ("path", "text", "where"),
    [(None, "{", "stdin"), (None, None, "stdin"), (Path("export.json"), "nope", "export.json")],
)
def test_text_that_is_not_json_names_its_source(
    path: Path | None, text: str | None, where: str
) -> None:
    with pytest.raises(StackFileError) as caught:
        read_stack_export(path, text)
    assert str(caught.value) == (
        f"{where}: not JSON (expected the output of `pulumi stack export`)"
    )


def test_a_file_is_read_when_no_text_is_given(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text('{"a": 1}', encoding="utf-8")
    assert read_stack_export(path) == {"a": 1}


def export(*resources: Any) -> dict[str, Any]:
    return {"deployment": {"resources": list(resources)}}


def integration(id_: Any = "1000/8", **more: Any) -> dict[str, Any]:
    return {"type": RESOURCE_TYPE, "id": id_, **more}


def test_something_else_than_a_stack_export_is_refused_by_name() -> None:
    with pytest.raises(StackFileError) as caught:
        from_stack_export({"resources": []})
    assert str(caught.value) == (
        "the stack export: not a stack export (expected deployment.resources, as `pulumi stack "
        "export` writes)"
    )


def test_a_resource_without_an_id_is_refused_naming_it() -> None:
    with pytest.raises(StackFileError) as caught:
        from_stack_export(export({"type": "pulumi:pulumi:Stack"}, integration(id_=None)))
    assert str(caught.value).startswith("the stack export: resources[1]: invalid ClientIntegration")
    resource = {"type": RESOURCE_TYPE}
    with pytest.raises(StackFileError) as caught:
        from_stack_export(export(resource), "state.json")
    assert str(caught.value) == (
        "state.json: resources[0]: invalid ClientIntegration id '': expected "
        "'<school_id>/<api_type_id>', e.g. '1000/8'"
    )


@pytest.mark.parametrize("marker", ["delete", "pendingReplacement"])
def test_the_old_half_of_a_replacement_is_not_declared(marker: str) -> None:
    found = from_stack_export(
        export(
            integration("1000/8", **{marker: True}),
            integration("1001/8"),
        )
    )
    assert [(e.school_id, e.api_type_id) for e in found] == [(1001, 8)]


def test_inputs_and_outputs_that_say_nothing_read_as_active_and_unnamed() -> None:
    encrypted = {SECRET: SECRET_VALUE, "ciphertext": "AAAA"}
    found = from_stack_export(
        export(
            integration("1000/8", inputs="garbled", outputs=["x"]),
            integration("1001/8", inputs={"active": encrypted}, outputs={"school_name": 7}),
            integration("1002/8", inputs={"active": False}, outputs={"school_name": ""}),
        )
    )
    assert [(e.school_id, e.active, e.school_name) for e in found] == [
        (1000, True, None),
        (1001, True, None),
        (1002, False, None),
    ]


# ------------------------------------------------------------------ rendering


def test_a_mismatched_row_reads_declared_against_d6() -> None:
    report = DriftReport(mismatched=[DriftRow(1000, 8, "Hill | Dale", True, False)])
    (section,) = sections(report)
    assert section.columns == ("school", "name", "API type", "declared", "d6")
    assert section.rows == [("1000", "Hill | Dale", "8", "active", "inactive")]
    assert (
        "\n\n| school | name | API type | declared | d6 |\n"
        "|---:|---|---:|---|---|\n"
        "| 1000 | Hill \\| Dale | 8 | active | inactive |\n"
    ) in to_markdown(report)
    assert to_markdown(report).endswith(" | inactive |\n")


def test_a_school_name_is_text_in_the_markdown_not_a_link_an_image_or_html() -> None:
    name = "[Pay](https://x.test) <img src=x> </details> *b*"
    markdown = to_markdown(DriftReport(onboarding=[DriftRow(1000, 8, name)]))
    escaped = "\\[Pay\\](https://x.test) \\<img src=x\\> \\</details\\> \\*b\\*"
    assert f"| 1000 | {escaped} | 8 |" in markdown
    assert markdown.count("</details>") == 1, "only the fold's own"


def test_other_rows_have_three_columns_and_a_bounded_name() -> None:
    long_name = "N" * 100
    report = DriftReport(revoked=[DriftRow(1000, 8, long_name), DriftRow(1001, 8, None)])
    (section,) = sections(report)
    assert section.columns == ("school", "name", "API type")
    assert section.rows == [("1000", "N" * 59 + "…", "8"), ("1001", "(unknown)", "8")]
    markdown = to_markdown(report)
    assert f"\n\n### {section.title}\n\n| school | name | API type |\n|---:|---|---:|\n" in markdown


def test_the_json_is_indented_by_two() -> None:
    text = to_json(DriftReport(in_sync=3))
    assert text.startswith('{\n  "in_sync": 3,\n  "')
