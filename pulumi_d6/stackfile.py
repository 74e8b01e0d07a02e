"""Pulumi project and stack files: read them, and merge ``integrations`` into a stack file
without losing a key or a comment (ruamel.yaml round-trips both; string editing would not).
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, MarkedYAMLError, YAMLError
from ruamel.yaml.tokens import CommentToken

from .codegen import school_comment
from .declarations import PROJECT, from_stack_config, program_namespaces
from .errors import SHOWN_CHARS, InvalidValueError, excerpt, shown
from .models import ClientIntegrationInfo


class StackFileError(InvalidValueError):
    """A project or stack file is missing, unreadable, or not what Pulumi writes."""


def _round_trip() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def read_text(path: Path) -> str:
    """A project, stack or export file's text; a missing or unreadable one is a one-line error."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        message = f"{path}: no such file"
    except (OSError, UnicodeDecodeError) as exc:
        message = f"{path}: cannot be read ({type(exc).__name__})"
    raise StackFileError(message)


def _parse(path: Path, text: str, yaml: YAML) -> Any:
    try:
        return yaml.load(text)
    except YAMLError as exc:
        problem = _yaml_problem(exc)
    raise StackFileError(f"{path}: not valid YAML ({problem})")


def _yaml_problem(exc: YAMLError) -> str:
    """What is wrong and where (line and column, 1-based), as an editor shows it."""
    if isinstance(exc, MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "invalid"
        if mark is not None:
            return excerpt(f"line {mark.line + 1}, column {mark.column + 1}: {what}", 160)
        return excerpt(what, 160)
    return excerpt(str(exc).splitlines()[0] if str(exc) else "invalid", 160)


def project_name(directory: Path, default: str = PROJECT) -> str:
    """The ``name`` in ``directory/Pulumi.yaml``: the namespace of the root program's config."""
    if not (directory / "Pulumi.yaml").exists():
        return default
    return str(load_project(directory)["name"])


def load_project(directory: Path) -> dict[str, Any]:
    """``directory/Pulumi.yaml`` as plain values; it must name its project."""
    path = directory / "Pulumi.yaml"
    data = _parse(path, read_text(path), YAML(typ="safe"))
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(name, str) or not name:
        raise StackFileError(f"{path}: has no project name")
    return {str(k): v for k, v in data.items()}


def stack_project(
    stack_file: Path, config: Mapping[str, Any], default: str = PROJECT
) -> tuple[str, str]:
    """The project of a stack file's config and, when it was inferred, a note saying so.

    ``Pulumi.yaml`` beside the file decides. Without one, the file's own namespaces do: the one
    non-``d6`` namespace holding root-program-looking keys (so a misspelled key is then refused
    by the parser instead of the whole file being read as another project's); none gives
    ``default`` (said only when another project is taken); several are refused, asking for
    ``--project``.
    """
    if (stack_file.parent / "Pulumi.yaml").exists():
        return project_name(stack_file.parent, default), ""
    found = program_namespaces(config)
    if not found or found == [default]:
        return default, ""
    if len(found) > 1:
        raise StackFileError(
            f"{stack_file}: no Pulumi.yaml beside it, and its keys name several projects "
            f"({', '.join(excerpt(n, SHOWN_CHARS) for n in found)}); "
            "give the project with --project NAME"
        )
    return found[0], (
        f"{stack_file}: no Pulumi.yaml beside it; project {found[0]} taken from its keys "
        "(--project NAME to choose)"
    )


def load_config(path: Path) -> dict[str, Any]:
    """The ``config:`` mapping of a stack file, as plain values (``secure:`` ones left as dicts)."""
    data = _parse(path, read_text(path), YAML(typ="safe"))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise StackFileError(f"{path}: not a stack file (expected a mapping with config:)")
    config = data.get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(f"{path}: config must be a mapping, got {shown(config)}")
    return {str(k): v for k, v in config.items()}


def merge_integrations(
    path: Path, project: str, items: list[ClientIntegrationInfo]
) -> tuple[int, int]:
    """Add an entry to ``<project>:integrations`` for each integration not declared yet.

    Nothing declared is removed or changed (removing an entry would deactivate it). Every
    other key and every comment stays. A missing file is created. Returns (added, kept).
    """
    yaml = _round_trip()
    data = _parse(path, read_text(path), yaml) if path.exists() else None
    if data is None:
        data = CommentedMap()
    if not isinstance(data, CommentedMap):
        raise StackFileError(f"{path}: not a stack file (expected a mapping with config:)")
    config = data.get("config")
    if config is None:
        config = data["config"] = CommentedMap()
    if not isinstance(config, CommentedMap):
        raise StackFileError(f"{path}: config must be a mapping")
    # The root program's own rules: what it would refuse is refused here, in the same words.
    declared = {e.key for e in from_stack_config(config, project, str(path)).integrations}
    key = f"{project}:integrations"
    entries = config.get(key)
    if entries is None:
        entries = config[key] = CommentedSeq()
    kept = len(entries)
    trailing = _detach_trailing_comment(entries)
    for info in sorted(items, key=lambda i: i.key):
        if info.key in declared:
            continue
        entry = CommentedMap()
        entry["schoolId"] = info.school_id
        entry["apiTypeId"] = info.api_type_id
        entry.yaml_add_eol_comment(f"# {school_comment(info.school_name)}", "schoolId")
        entries.append(entry)
        declared.add(info.key)
    if trailing:
        last = entries[-1]
        last.ca.items.setdefault(list(last)[-1], [None, None, None, None])[2] = CommentToken(
            "\n" + trailing, CommentMark(0)
        )
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    _write_atomically(path, buffer.getvalue())
    return len(entries) - kept, kept


def _detach_trailing_comment(entries: CommentedSeq) -> str:
    """The comment lines after the last entry (a file's trailing comment, or the one above the
    next key), taken off that entry so new entries go above them, not below."""
    last = entries[-1] if entries else None
    if not isinstance(last, CommentedMap) or not last:
        return ""
    slot = last.ca.items.get(list(last)[-1])
    token = slot[2] if slot and len(slot) > 2 else None
    if not isinstance(token, CommentToken):
        return ""
    own, newline, rest = token.value.partition("\n")
    if not rest.strip():
        return ""
    if own.strip():
        token.value = own + newline
    else:
        slot[2] = None
    return rest


def _write_atomically(path: Path, text: str) -> None:
    """Write beside, then rename: an interrupted write never leaves half a stack file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
