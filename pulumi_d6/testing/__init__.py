"""Test tools shipped with the package.

For users: :func:`run_program` and :func:`run_project` run a Pulumi program that uses pulumi-d6
under Pulumi's own mocks, with a stack config and a fake d6 listing given in code, and return the
``ClientIntegration``s it registered (``programs``). For this project's tests, benchmarks and
demo: the engine-protocol harness (``engine``, needs only the Pulumi SDK) and the emulator
process (``processes``), imported from their modules.
"""

from .programs import (
    InvalidInputsError,
    ProgramRun,
    RegisteredIntegration,
    RegisteredOptions,
    authorised,
    run_program,
    run_project,
)

__all__ = [
    "InvalidInputsError",
    "ProgramRun",
    "RegisteredIntegration",
    "RegisteredOptions",
    "authorised",
    "run_program",
    "run_project",
]
