"""Where a CI runner installs pulumi-d6 from: the ``requirements.txt`` line ``init`` writes.

pulumi-d6 is not on a public index, and nobody guarantees the name there is ours: a bare
``pulumi-d6==VERSION`` would let whoever registers it run code in CI next to the d6 password.
So the line is either what the user passes (``--requirement``, any PEP 508 requirement), or the
source this copy came from (PEP 610 ``direct_url.json``): a git URL over https or ssh with its
commit, an https archive with its hash when known, or a version only for a copy that did come
from an index. A source a CI runner cannot reach or should not trust (a path, ``file://``,
``git+file://``, an editable checkout, plain ``http://``, a loopback host) is written with the
:data:`LOCAL_ONLY` mark, which the workflow's install step looks for and stops on; the fix is to
edit that line (:data:`FORMS`). No Pulumi imports.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from importlib import metadata
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from .errors import InvalidValueError, shown
from .settings import is_loopback_host, without_userinfo

DISTRIBUTION = "pulumi-d6"
LOCAL_ONLY = "# local only"
"""The mark on a requirement a CI runner cannot install (the workflow greps for this text)."""
EXAMPLE = "pulumi-d6 @ git+https://github.com/<owner>/pulumi-d6.git@<commit>"
FORMS = (
    EXAMPLE,
    "pulumi-d6 @ https://<host>/pulumi_d6-<version>-py3-none-any.whl#sha256=<hash>",
)
"""The two forms of a line a CI runner can install (placeholders in ``<>``)."""
EDIT_ADVICE = (
    "Edit requirements.txt: replace the line marked '# local only' with a source CI can "
    f"install, in one of these forms: '{FORMS[0]}' or '{FORMS[1]}' (fill in each <...>)."
)
"""What to do about a local pin; the workflow's install step says the same."""
INDEX_NOTE = (
    "installs pulumi-d6 by name from a package index, and the name is not yet registered on PyPI "
    "for this project (see https://github.com/pulumi-d6/pulumi-d6#install): whoever takes it "
    "there could run code in CI next to the d6 credentials. Use it only with an index you "
    "control (an --index-url line in requirements.txt)."
)
_SPEC_CHARS = 300
_PLACEHOLDER = re.compile(r"<[A-Za-z][\w-]*>")
_COMMIT = re.compile(r"[0-9a-fA-F]{4,64}")  # a commit hash, maybe shortened
_SAFE_SCHEMES = frozenset({"https", "ssh"})
_UNKNOWN = "EDIT ME: replace this line with where CI installs pulumi-d6 from (see above)"
"""A line pip refuses, for a source nobody can tell: never a bare name an index could serve."""
_ENV_REFERENCE = re.compile(r"^\$\{\w+\}$")


class RequirementError(InvalidValueError):
    """``--requirement`` is not a usable requirement for pulumi-d6."""


@dataclass(frozen=True)
class Pin:
    """The requirement line, and whether only this machine can install it."""

    requirement: str
    local: bool = False
    why: str = ""
    """For a local pin: what the source is, in words for the user."""
    note: str = ""
    """For a pin CI can install but the user should think twice about: why (a bare version)."""

    @property
    def line(self) -> str:
        return f"{self.requirement}  {LOCAL_ONLY}" if self.local else self.requirement


TEST_RUNNER = "pytest>=8  # runs tests/test_program.py"


def requirements_txt(pin: Pin) -> str:
    """The new repository's ``requirements.txt``."""
    note = (
        f"# A CI runner cannot install the pulumi-d6 line below: it comes from {pin.why}.\n"
        "# The workflow stops at its install step until you edit that line (the one marked\n"
        "# '# local only') into a source CI can install, in one of these forms:\n"
        f"#   {FORMS[0]}\n"
        f"#   {FORMS[1]}\n"
        if pin.local
        else ""
    )
    return f"{note}{pin.line}\n{TEST_RUNNER}\n"


def already_has(text: str, pin: Pin) -> bool:
    """Whether a ``requirements.txt`` has ``pin``'s line (as PEP 508 reads both, same mark)."""
    wanted = (str(Requirement(pin.requirement)), pin.local)
    for raw in text.splitlines():
        line, mark, _ = raw.partition(f"  {LOCAL_ONLY}")
        try:
            found = Requirement(line.partition(" #")[0].strip())
        except InvalidRequirement:
            continue
        if (str(found), bool(mark)) == wanted:
            return True
    return False


def from_option(spec: str) -> Pin:
    """``--requirement SPEC``: a PEP 508 requirement for pulumi-d6, pinned by ``==`` or a URL."""
    placeholders = ", ".join(_PLACEHOLDER.findall(spec))
    if placeholders:
        raise RequirementError(
            f"--requirement {_as_given(spec)} still has the placeholder(s) {placeholders}: "
            "put in the real values (e.g. the owner of the repository and a full commit hash)"
        )
    try:
        requirement = Requirement(spec.strip())
    except InvalidRequirement as exc:
        first = str(exc).splitlines()[0]
        raise RequirementError(
            f"--requirement {_as_given(spec)} is not a PEP 508 requirement ({first}); e.g. "
            f"--requirement '{EXAMPLE}'"
        ) from None
    if canonicalize_name(requirement.name) != DISTRIBUTION:
        raise RequirementError(
            f"--requirement {_as_given(spec)} names {shown(requirement.name)}, not pulumi-d6"
        )
    if requirement.url is None:
        if not any(s.operator in ("==", "===") for s in requirement.specifier):
            raise RequirementError(
                f"--requirement {_as_given(spec)} does not pin pulumi-d6 to a source: give a URL "
                f"(e.g. '{EXAMPLE}') or an exact version (pulumi-d6==X.Y.Z, from an index you "
                "control)"
            )
        return Pin(str(requirement), note=f"{requirement} {INDEX_NOTE}")
    if not _harmless_userinfo(requirement.url):
        raise RequirementError(
            "--requirement must not carry a password or token in its URL (requirements.txt is "
            "committed); use a ${VARIABLE} reference, which pip expands, or a credential helper"
        )
    pin = _classified(str(requirement), requirement.url)
    return replace(pin, note=_moving_ref(requirement.url)) if not pin.local else pin


def _moving_ref(url: str) -> str:
    """Why a VCS URL would install something else tomorrow: no commit, or a branch or tag."""
    if not url.lower().startswith(("git+", "hg+", "svn+", "bzr+")):
        return ""
    path = urlsplit(url.partition("+")[2]).path
    ref = path.rpartition("@")[2] if "@" in path else ""
    if _COMMIT.fullmatch(ref):
        return ""
    what = f"names {shown(ref)}, a branch or tag that can move" if ref else "names no commit"
    return (
        f"{url} {what}: CI installs whatever it points to on the day, so a change you never "
        "reviewed can run next to the d6 credentials. Append @<full commit hash> to the URL"
    )


def installed() -> Pin:
    """The source this pulumi-d6 was installed from (PEP 610), as a pin."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        here = Path(__file__).resolve().parent.parent
        return Pin(f"{DISTRIBUTION} @ {here.as_uri()}", local=True, why=f"a source tree ({here})")
    raw = dist.read_text("direct_url.json")
    if not raw:  # no direct URL: it came from a package index, by version
        return Pin(f"{DISTRIBUTION}=={dist.version}")
    try:
        info: Any = json.loads(raw)
        url = _clean_userinfo(str(info["url"]))
    except (ValueError, KeyError, TypeError):
        return Pin(_UNKNOWN, local=True, why="a source pip did not record readably")
    subdirectory = info.get("subdirectory")
    fragment = f"#subdirectory={subdirectory}" if subdirectory else ""
    vcs = info.get("vcs_info")
    if isinstance(vcs, dict):
        commit = vcs.get("commit_id")
        line = f"{DISTRIBUTION} @ {vcs.get('vcs', 'git')}+{url}" + (f"@{commit}" if commit else "")
        if not commit:
            return Pin(line + fragment, local=True, why=f"{url} with no commit recorded")
        return _classified(line + fragment, url)
    if isinstance(info.get("dir_info"), dict) and info["dir_info"].get("editable"):
        line = f"{DISTRIBUTION} @ {url}"
        return Pin(line, local=True, why=f"an editable checkout ({url})")
    archive = info.get("archive_info")
    if isinstance(archive, dict) and not fragment:
        fragment = _hash_fragment(archive)
    return _classified(f"{DISTRIBUTION} @ {url}{fragment}", url)


def _classified(line: str, url: str) -> Pin:
    """``line`` as a CI-installable pin when ``url`` is https or ssh to another machine, else
    marked local (shown whole in ``why``: a cut URL would not say which one it is)."""
    parts = urlsplit(_without_vcs(url))
    scheme = parts.scheme.lower()
    loopback = _this_machine(parts.hostname or "")
    if scheme in _SAFE_SCHEMES and not loopback:
        return Pin(line)
    if scheme in ("", "file"):
        where = "a local path"
    elif loopback:
        where = "a loopback URL, this machine only"
    else:
        where = f"a {scheme}:// URL"
    return Pin(line, local=True, why=f"{where} ({without_userinfo(url)})")


def _this_machine(host: str) -> bool:
    """A loopback host, or an unspecified address (``0.0.0.0``: a server's "every interface",
    as a URL this machine)."""
    try:
        return is_loopback_host(host) or ip_address(host).is_unspecified
    except ValueError:
        return False


def _as_given(spec: str) -> str:
    """``spec`` quoted for a message: whole (a URL cut short names no source), on one line, and
    only a pasted screenful is cut, inside the quotes."""
    flat = " ".join(spec.split())
    return repr(flat if len(flat) <= _SPEC_CHARS else flat[: _SPEC_CHARS - 1] + "…")


def _without_vcs(url: str) -> str:
    """``git+https://...`` as ``https://...``."""
    head, plus, rest = url.partition("+")
    return rest if plus and "://" in rest and "/" not in head else url


def _harmless_userinfo(url: str) -> bool:
    """No user info, ssh's ``git@``, or only ``${VAR}`` references (PEP 610 keeps those)."""
    userinfo = url.partition("://")[2].partition("/")[0].rpartition("@")[0]
    parts = [part for part in userinfo.split(":") if part]
    return userinfo in ("", "git") or all(_ENV_REFERENCE.match(part) for part in parts)


def _clean_userinfo(url: str) -> str:
    """``url`` with any user info that could be a credential dropped."""
    return url if _harmless_userinfo(url) else without_userinfo(url)


def _hash_fragment(archive: dict[str, Any]) -> str:
    hashes = archive.get("hashes")
    if isinstance(hashes, dict) and isinstance(hashes.get("sha256"), str):
        return f"#sha256={hashes['sha256']}"
    legacy = archive.get("hash")
    if isinstance(legacy, str) and "=" in legacy:
        return f"#{legacy}"
    return ""
