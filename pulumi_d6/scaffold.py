"""``pulumi-d6 init``: a ready infrastructure repository for a user's d6 integrations.

The files come from ``templates/d6-integrations/``, the same folder that serves as a ``pulumi
new`` template (its ``Pulumi.yaml`` has a ``template:`` section, dropped here). What ``init``
adds: the project name, the stack file (``integrations`` from d6 with ``--adopt``), and a
``requirements.txt`` pinned to wherever this pulumi-d6 was installed from (PEP 610's
``direct_url.json``). No password is ever written. No Pulumi imports.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path

from .codegen import render_yaml
from .errors import InvalidValueError, shown
from .models import ClientIntegrationInfo
from .settings import DEFAULT_BASE_URL, DEFAULT_MAX_DEACTIVATIONS, without_userinfo

TEMPLATE = "d6-integrations"
TEMPLATE_FILES = (
    "Pulumi.yaml",
    "__main__.py",
    "requirements.txt",
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
    """What goes into the new repository."""

    project: str
    stack: str = DEFAULT_STACK
    username: str | None = None
    base_url: str = DEFAULT_BASE_URL
    api_version: str = "v2"
    max_deactivations: str = str(DEFAULT_MAX_DEACTIVATIONS)
    adopted: list[ClientIntegrationInfo] | None = None  # None: --adopt not given
    activate_all_authorised: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not _PROJECT_NAME.match(self.project):
            raise ScaffoldError(
                f"project name {shown(self.project)} is not a valid Pulumi project name "
                "(letters, digits, '-', '_' and '.', at most 100); pass --project NAME"
            )
        if not _STACK_NAME.match(self.stack):
            raise ScaffoldError(f"stack name {shown(self.stack)} is not a valid Pulumi stack name")


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
    files["requirements.txt"] = requirements_txt()
    workflow = ".github/workflows/d6-integrations.yml"
    files[workflow] = set_workflow_stack(files[workflow], spec.stack)
    files[f"Pulumi.{spec.stack}.yaml"] = stack_file(spec)
    return files


def set_workflow_stack(text: str, stack: str) -> str:
    """The workflow's ``STACK:`` line naming ``stack`` (the template says ``prod``)."""
    return re.sub(
        r"^  STACK: prod # .*$",
        f"  STACK: {stack} # the stack to deploy; its config is Pulumi.{stack}.yaml",
        text,
        count=1,
        flags=re.M,
    )


def stack_file(spec: RepoSpec) -> str:
    """``Pulumi.<stack>.yaml``: connection settings (never the password) and the declarations."""
    p = spec.project
    lines = [
        f"# Stack {spec.stack!r} of {p}: the schools whose d6 integrations you actively service.",
        "# Set the password once; it is stored encrypted:",
        "#   pulumi config set --secret d6:password",
        "config:",
    ]
    if spec.username:
        lines.append(f"  d6:username: {json.dumps(spec.username)}")
    else:
        lines.append("  # d6:username: set it with `pulumi config set d6:username <name>`")
    if spec.base_url != DEFAULT_BASE_URL:
        lines.append(f"  d6:baseUrl: {json.dumps(spec.base_url)}")
    if spec.api_version != "v2":
        lines.append(f"  d6:apiVersion: {spec.api_version}")
    lines.append(
        f"  d6:maxDeactivations: {json.dumps(spec.max_deactivations)}"
        "  # one run may deactivate at most this many"
    )
    if spec.activate_all_authorised:
        lines.append(f"  {p}:activateAllAuthorised:  # every school that authorised these")
        lines.extend(f"    - {type_id}" for type_id in spec.activate_all_authorised)
    if spec.adopted is None:
        lines.append(f"  {p}:integrations: []  # pulumi-d6 codegen --write adds what is active")
    else:
        lines.append(render_yaml(spec.adopted, p, made_by="adopted by `pulumi-d6 init`"))
    return "\n".join(lines) + "\n"


def write(directory: Path, files: dict[str, str], *, force: bool) -> list[Path]:
    """Write every file; without ``force`` nothing is written if any of them exists."""
    targets = {directory / name: text for name, text in files.items()}
    existing = sorted(str(path.relative_to(directory)) for path in targets if path.exists())
    if existing and not force:
        raise ScaffoldError(
            f"{directory} already has {', '.join(existing)}; nothing was written. Pass --force "
            "to overwrite them, or choose another folder."
        )
    for path, text in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(targets)


# ------------------------------------------------------------ requirements


def requirements_txt() -> str:
    """``pulumi-d6`` pinned to the source this copy was installed from (PEP 610)."""
    line, note = install_source()
    return (note + "\n" if note else "") + line + "\n"


def install_source() -> tuple[str, str]:
    """(requirement line, comment) for the installed pulumi-d6."""
    try:
        dist = metadata.distribution("pulumi-d6")
    except metadata.PackageNotFoundError:
        from ._version import __version__

        return f"pulumi-d6=={__version__}", _LOCAL_NOTE
    pinned = f"pulumi-d6=={dist.version}"
    raw = dist.read_text("direct_url.json")
    if not raw:
        return pinned, ""  # installed from an index by version
    try:
        info = json.loads(raw)
    except ValueError:
        return pinned, _LOCAL_NOTE
    url = without_userinfo(str(info.get("url", "")))
    vcs = info.get("vcs_info")
    if isinstance(vcs, dict) and url:
        ref = vcs.get("commit_id") or vcs.get("requested_revision")
        line = f"pulumi-d6 @ {vcs.get('vcs', 'git')}+{url}" + (f"@{ref}" if ref else "")
        subdirectory = info.get("subdirectory")
        return line + (f"#subdirectory={subdirectory}" if subdirectory else ""), ""
    if url.startswith("file:") or "dir_info" in info:
        return pinned, _LOCAL_NOTE
    return f"pulumi-d6 @ {url}", ""


_LOCAL_NOTE = (
    "# pulumi-d6 was installed here from a local checkout or file, which CI cannot reach, and it\n"
    "# is not on PyPI. Replace the line below with where CI should install it from, e.g.\n"
    "#   pulumi-d6 @ git+https://github.com/<owner>/pulumi-d6.git@<commit>\n"
    "#   pulumi-d6 @ https://<host>/pulumi_d6-<version>-py3-none-any.whl"
)
