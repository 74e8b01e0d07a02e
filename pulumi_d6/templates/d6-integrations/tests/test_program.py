"""This repository's program, run against its own stack file under Pulumi's mocks.

No Pulumi CLI, no network, no d6 credentials: `pulumi_d6.testing.run_project` runs __main__.py
with the config of Pulumi.<stack>.yaml and a d6 listing given here, and returns every
ClientIntegration the program declares. CI runs it before any preview or `up`:

    venv/bin/python -m pytest tests/test_program.py

Add tests of your own in the same way (see "Testing your program" in pulumi-d6's README).
"""

import os
from pathlib import Path

from pulumi_d6.testing import authorised, run_project

REPO = Path(__file__).resolve().parents[1]
STACK = os.environ.get("STACK", "prod")
NEWCOMER = 9_000_000  # a school id the stack file does not declare


def test_every_declared_integration_is_declared_once_as_the_stack_file_says() -> None:
    run = run_project(REPO, STACK)  # an empty listing: nothing is discovered
    declared = run.config_value("integrations") or []
    expected = {
        f"school-{e['schoolId']}-api-{e['apiTypeId']}": bool(e.get("active", True))
        for e in declared
    }
    assert {i.name: i.active for i in run.integrations} == expected
    assert len(run.integrations) == len(declared)


def test_newly_authorised_schools_are_activated_and_never_deactivated_by_omission() -> None:
    api_types = run_project(REPO, STACK).config_value("activateAllAuthorised") or []
    listing = [authorised(NEWCOMER, int(api_type)) for api_type in api_types]
    run = run_project(REPO, STACK, listing=listing)
    for api_type in api_types:
        found = run.named(f"school-{NEWCOMER}-api-{api_type}")
        assert found.active
        assert not found.deactivate_on_destroy, "a short listing must not deactivate anyone"
