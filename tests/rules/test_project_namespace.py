"""Root program keys under another project's namespace are refused, not silently ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from pulumi_d6.declarations import ProgramConfigError, from_stack_config, program_namespaces
from pulumi_d6.stackfile import StackFileError, stack_project
from pulumi_d6.testing import authorised, run_project

FIX = (
    "d6-integrations:exclusiveApiTypes is not read: the project is my-d6, whose keys are "
    "my-d6:*; rename it to my-d6:exclusiveApiTypes"
)


def test_a_readme_key_pasted_into_another_project_is_refused_naming_the_fix() -> None:
    config = {"d6:username": "demo", "d6-integrations:exclusiveApiTypes": [8]}
    with pytest.raises(ProgramConfigError) as caught:
        from_stack_config(config, "my-d6", "Pulumi.prod.yaml")
    assert str(caught.value) == f"Pulumi.prod.yaml: {FIX}"


def test_other_namespaces_and_the_projects_own_keys_stay_allowed() -> None:
    config = {
        "aws:region": "eu-west-1",
        "d6:username": "demo",
        "other:setting": 1,
        "my-d6:exclusiveApiTypes": [8],
    }
    assert from_stack_config(config, "my-d6").exclusive_api_types == (8,)


def test_the_root_program_refuses_a_key_of_another_project(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: my-d6\nruntime: python\n")
    (tmp_path / "Pulumi.prod.yaml").write_text("config:\n  d6:username: demo\n")
    (tmp_path / "__main__.py").write_text("from pulumi_d6.program import main\n\nmain()\n")
    listing = [authorised(1000, 8, active=True)]
    with pytest.raises(Exception, match="rename it to my-d6:exclusiveApiTypes"):
        run_project(
            tmp_path, "prod", listing=listing, config={"d6-integrations:exclusiveApiTypes": [8]}
        )
    run = run_project(tmp_path, "prod", listing=listing, config={"my-d6:exclusiveApiTypes": [8]})
    assert [i.id for i in run.integrations] == ["1000/8"]


def test_a_lone_stack_file_names_its_project_by_its_own_keys(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.prod.yaml"
    config = {"d6:username": "demo", "aa:integrations": [], "aws:region": "x"}
    project, note = stack_project(path, config)
    assert project == "aa"
    assert note == (
        f"{path}: no Pulumi.yaml beside it; project aa taken from its keys "
        "(--project NAME to choose)"
    )


def test_a_misspelled_key_names_the_project_and_is_then_refused(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.prod.yaml"
    config = {"aa:activateAllAuthorized": [8]}
    assert program_namespaces(config) == ["aa"]
    project, _ = stack_project(path, config)
    with pytest.raises(ProgramConfigError, match="aa:activateAllAuthorized is not a setting"):
        from_stack_config(config, project)


def test_a_lone_stack_file_without_program_keys_takes_the_default(tmp_path: Path) -> None:
    assert stack_project(tmp_path / "Pulumi.prod.yaml", {"d6:username": "x"}) == (
        "d6-integrations",
        "",
    )


def test_pulumi_yaml_beside_the_file_decides(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: estate\nruntime: python\n")
    assert stack_project(tmp_path / "Pulumi.prod.yaml", {"aa:integrations": []}) == ("estate", "")


def test_several_projects_in_a_lone_stack_file_ask_for_project(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.prod.yaml"
    with pytest.raises(StackFileError) as caught:
        stack_project(path, {"aa:integrations": [], "bb:exclusiveApiTypes": [8]})
    assert str(caught.value) == (
        f"{path}: no Pulumi.yaml beside it, and its keys name several projects (aa, bb); "
        "give the project with --project NAME"
    )
