"""``pulumi-d6 init``: a ready infrastructure repository for a user's d6 integrations.

The files come from ``templates/d6-integrations/``, the same folder that serves as a ``pulumi
new`` template (its ``Pulumi.yaml`` has a ``template:`` section, dropped here). What ``init``
adds: the project and stack names, the stack file (``integrations`` from d6 with ``--adopt``),
and a ``requirements.txt`` pinned to a source a CI runner can install (``pins``). No password,
and no value from the environment but the username, is ever written. No Pulumi imports.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .codegen import render_yaml
from .declarations import PROJECT
from .errors import InvalidValueError, shown
from .models import ClientIntegrationInfo
from .pins import Pin, requirements_txt
from .settings import DEFAULT_MAX_DEACTIVATIONS

TEMPLATE = PROJECT  # the template folder is named after the project it makes
PROGRAM_TEST = "tests/test_program.py"
TEMPLATE_FILES = (
    "Pulumi.yaml",
    "__main__.py",
    "requirements.txt",
    PROGRAM_TEST,
    ".gitignore",
    "README.md",
    ".github/workflows/d6-integrations.yml",
)
DEFAULT_STACK = "prod"
DESCRIPTION = "d6+ SAMS client integrations, managed with pulumi-d6"
_PROJECT_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


class ScaffoldError(InvalidValueError):
    """``init`` cannot write the repository as asked (a name, or files already there)."""


@dataclass(frozen=True)
class RepoSpec:
    """What goes into the new repository. Only ``username`` may come from the environment
    (``D6_USERNAME``); ``base_url`` and ``api_version`` are written only when given as flags."""

    project: str
    pin: Pin
    stack: str = DEFAULT_STACK
    username: str | None = None
    username_source: str = "D6_USERNAME"
    """Where the username came from, for what ``init`` prints (never the value)."""
    base_url: str | None = None
    api_version: str | None = None
    max_deactivations: str = str(DEFAULT_MAX_DEACTIVATIONS)
    adopted: list[ClientIntegrationInfo] | None = None  # None: --adopt not given
    activate_all_authorised: list[int] = field(default_factory=list)
    exclusive_api_types: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not _PROJECT_NAME.match(self.project):
            raise ScaffoldError(
                f"project name {shown(self.project)} is not a valid Pulumi project name "
                "(letters, digits, '-', '_' and '.', at most 100); pass --project NAME"
            )
        if not _STACK_NAME.match(self.stack):
            raise ScaffoldError(f"stack name {shown(self.stack)} is not a valid Pulumi stack name")


@dataclass(frozen=True)
class ConfigKey:
    """One key of the stack file: its YAML (under ``config:``) and what ``init`` says of it."""

    key: str
    yaml: str
    summary: str


def default_project(directory: Path) -> str:
    """The folder's name when it is a valid project name, else ``d6-integrations``."""
    name = directory.resolve().name
    return name if _PROJECT_NAME.match(name) else TEMPLATE


def render(spec: RepoSpec) -> dict[str, str]:
    """Every file of the new repository: relative path to content."""
    folder = resources.files("pulumi_d6") / "templates" / TEMPLATE
    files: dict[str, str] = {}
    for name in TEMPLATE_FILES:
        node = folder
        for part in name.split("/"):
            node = node / part
        text = node.read_text(encoding="utf-8")
        files[name] = text.replace("${PROJECT}", spec.project).replace(
            "${DESCRIPTION}", DESCRIPTION
        )
    files["Pulumi.yaml"] = files["Pulumi.yaml"].split("\ntemplate:", 1)[0] + "\n"
    files["requirements.txt"] = requirements_txt(spec.pin)
    files["README.md"] = files["README.md"].replace("<stack>", spec.stack)
    files[PROGRAM_TEST] = _replace_line(
        files[PROGRAM_TEST], 'STACK = os.environ.get("STACK", "prod")', spec.stack
    )
    workflow = ".github/workflows/d6-integrations.yml"
    files[workflow] = set_workflow_stack(files[workflow], spec.stack)
    files[stack_file_name(spec.stack)] = stack_file(spec)
    return files


def _replace_line(text: str, line: str, stack: str) -> str:
    if line not in text:
        raise AssertionError(f"the template lost its line {line!r}")
    return text.replace(line, line.replace('"prod"', f'"{stack}"'), 1)


def stack_file_name(stack: str) -> str:
    return f"Pulumi.{stack}.yaml"


def set_workflow_stack(text: str, stack: str) -> str:
    """The workflow's ``STACK:`` line naming ``stack`` (the template says ``prod``)."""
    return re.sub(
        r"^  STACK: prod # .*$",
        f"  STACK: {stack} # the stack to deploy; its config is Pulumi.{stack}.yaml",
        text,
        count=1,
        flags=re.M,
    )


def config_keys(spec: RepoSpec) -> list[ConfigKey]:
    """The keys ``init`` writes into the stack file, in order (never the password)."""
    p = spec.project
    keys: list[ConfigKey] = []
    if spec.username:
        keys.append(
            ConfigKey(
                "d6:username",
                f"  d6:username: {json.dumps(spec.username)}",
                f"from {spec.username_source}",
            )
        )
    if spec.base_url is not None:
        yaml = f"  d6:baseUrl: {json.dumps(spec.base_url)}"
        keys.append(ConfigKey("d6:baseUrl", yaml, f"{spec.base_url} (--base-url)"))
    if spec.api_version is not None:
        yaml = f"  d6:apiVersion: {spec.api_version}"
        keys.append(ConfigKey("d6:apiVersion", yaml, f"{spec.api_version} (--api-version)"))
    budget = (
        "  # How many integrations one run may deactivate; raise it in a reviewed change:\n"
        f"  d6:maxDeactivations: {json.dumps(spec.max_deactivations)}"
    )
    keys.append(ConfigKey("d6:maxDeactivations", budget, spec.max_deactivations))
    if spec.activate_all_authorised:
        types = spec.activate_all_authorised
        yaml = "\n".join(
            [
                "  # Every school that authorised one of these API types is activated:",
                f"  {p}:activateAllAuthorised:",
                *(f"    - {type_id}" for type_id in types),
            ]
        )
        summary = "API type(s) " + ", ".join(map(str, types))
        keys.append(ConfigKey(f"{p}:activateAllAuthorised", yaml, summary))
    if spec.exclusive_api_types:
        types = spec.exclusive_api_types
        yaml = "\n".join(
            [
                "  # Exclusive mode: whatever is active in d6 for these API types and not declared",
                "  # here is deactivated by `pulumi up` (within d6:maxDeactivations):",
                f"  {p}:exclusiveApiTypes:",
                *(f"    - {type_id}" for type_id in types),
            ]
        )
        summary = "API type(s) " + ", ".join(map(str, types))
        keys.append(ConfigKey(f"{p}:exclusiveApiTypes", yaml, summary))
        yaml = (
            '  # Exceptions exclusive mode never touches, as "<schoolId>/<apiTypeId>":\n'
            f"  {p}:exclusiveIgnore: []"
        )
        keys.append(ConfigKey(f"{p}:exclusiveIgnore", yaml, "empty"))
    if spec.adopted is None:
        yaml = f"  # `pulumi-d6 codegen --write` adds what is active in d6:\n  {p}:integrations: []"
        keys.append(ConfigKey(f"{p}:integrations", yaml, "empty"))
    else:
        yaml = render_yaml(spec.adopted, p, made_by="adopted by `pulumi-d6 init`")
        summary = f"{len(spec.adopted)} active integration(s) adopted from d6"
        keys.append(ConfigKey(f"{p}:integrations", yaml, summary))
    return keys


def stack_file(spec: RepoSpec) -> str:
    """``Pulumi.<stack>.yaml``: connection settings (never the password) and the declarations."""
    lines = [
        f"# Stack {spec.stack!r} of {spec.project}: the schools whose d6 integrations you "
        "actively service.",
        "# Set the password once; it is stored encrypted:",
        "#   pulumi config set --secret d6:password",
        "config:",
    ]
    if not spec.username:
        lines.append("  # d6:username: set it with `pulumi config set d6:username <name>`")
    lines.extend(key.yaml for key in config_keys(spec))
    return "\n".join(lines) + "\n"


class Existing(enum.Enum):
    """What to do with files that are already there."""

    REFUSE = "refuse"
    SKIP = "skip"
    OVERWRITE = "overwrite"


MERGED = (".gitignore",)
"""Files that ``SKIP`` completes rather than keeps: a repository created on GitHub has a
.gitignore, but not one that ignores ``venv/``, ``.pulumi/`` and ``preview.json``."""


@dataclass(frozen=True)
class Written:
    written: list[str]
    kept: list[str]
    appended: dict[str, list[str]] = field(default_factory=dict)
    """Existing files (``MERGED``) and the lines added to them."""


def write(directory: Path, files: dict[str, str], existing: Existing) -> Written:
    """Write the files. ``REFUSE``: nothing at all if any of them exists; ``SKIP``: only the
    missing ones (a repository created on GitHub has a README and a .gitignore already), but
    the lines of a ``MERGED`` file that are missing are added to it."""
    there = sorted(name for name in files if (directory / name).exists())
    if there and existing is Existing.REFUSE:
        raise ScaffoldError(
            f"{directory} already has {', '.join(there)}; nothing was written. Pass "
            "--skip-existing to write only the missing files, --force to overwrite them, or "
            "choose another folder."
        )
    kept = there if existing is Existing.SKIP else []
    written = [name for name in files if name not in kept]
    for name in written:
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[name], encoding="utf-8")
    appended: dict[str, list[str]] = {}
    for name in (n for n in MERGED if n in kept):
        added = _append_missing_lines(directory / name, files[name])
        if added:
            appended[name] = added
    return Written(sorted(written), [n for n in kept if n not in appended], appended)


def _append_missing_lines(path: Path, wanted: str) -> list[str]:
    """Add to ``path`` each line of ``wanted`` it does not have (compared without surrounding
    spaces); the lines added."""
    text = path.read_text(encoding="utf-8")
    have = {line.strip() for line in text.splitlines()}
    missing = [line for line in wanted.splitlines() if line.strip() and line.strip() not in have]
    if missing:
        separator = "" if not text or text.endswith("\n") else "\n"
        block = "\n".join(["# added by pulumi-d6 init", *missing])
        path.write_text(f"{text}{separator}{block}\n", encoding="utf-8")
    return missing
