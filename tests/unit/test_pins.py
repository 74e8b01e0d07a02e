"""The requirements.txt pin `init` writes: a source a CI runner can install, or a plain mark."""

from __future__ import annotations

import json
from importlib import metadata
from typing import Any

import pytest

from pulumi_d6 import pins


class FakeDistribution:
    def __init__(self, direct_url: dict[str, Any] | str | None) -> None:
        self.version = "0.1.0"
        self.direct_url = direct_url if direct_url is None or isinstance(direct_url, str) else (
            json.dumps(direct_url)
        )  # fmt: skip

    def read_text(self, name: str) -> str | None:
        return self.direct_url if name == "direct_url.json" else None


def pinned(monkeypatch: pytest.MonkeyPatch, direct_url: dict[str, Any] | str | None) -> pins.Pin:
    monkeypatch.setattr("importlib.metadata.distribution", lambda _: FakeDistribution(direct_url))
    return pins.installed()


GIT = {"vcs": "git", "commit_id": "0123abc", "requested_revision": "main"}


@pytest.mark.parametrize(
    ("direct_url", "line"),
    [
        (None, "pulumi-d6==0.1.0"),  # from an index, by version
        (
            {"url": "https://github.com/acme/pulumi-d6.git", "vcs_info": GIT},
            "pulumi-d6 @ git+https://github.com/acme/pulumi-d6.git@0123abc",
        ),
        (
            {"url": "ssh://git@github.com/acme/pulumi-d6.git", "vcs_info": GIT},
            "pulumi-d6 @ git+ssh://git@github.com/acme/pulumi-d6.git@0123abc",
        ),
        (
            {
                "url": "https://tok:Secret-77@git.acme/pulumi-d6.git",
                "vcs_info": {"vcs": "git", "commit_id": "9f"},
                "subdirectory": "py",
            },
            "pulumi-d6 @ git+https://git.acme/pulumi-d6.git@9f#subdirectory=py",
        ),
        (
            {
                "url": "https://files.acme/pulumi_d6-0.1.0-py3-none-any.whl",
                "archive_info": {"hashes": {"sha256": "ab12"}},
            },
            "pulumi-d6 @ https://files.acme/pulumi_d6-0.1.0-py3-none-any.whl#sha256=ab12",
        ),
        (
            {
                "url": "https://files.acme/pulumi_d6-0.1.0-py3-none-any.whl",
                "archive_info": {"hash": "sha256=cd34"},
            },
            "pulumi-d6 @ https://files.acme/pulumi_d6-0.1.0-py3-none-any.whl#sha256=cd34",
        ),
        (
            {"url": "https://files.acme/pulumi_d6-0.1.0.whl", "archive_info": {}},
            "pulumi-d6 @ https://files.acme/pulumi_d6-0.1.0.whl",
        ),
    ],
)
def test_a_source_ci_can_reach_is_pinned_as_is(
    monkeypatch: pytest.MonkeyPatch, direct_url: dict[str, Any] | None, line: str
) -> None:
    pin = pinned(monkeypatch, direct_url)
    assert pin == pins.Pin(line)
    text = pins.requirements_txt(pin)
    assert text.splitlines()[0] == line
    assert pins.LOCAL_ONLY not in text
    assert "Secret-77" not in text


@pytest.mark.parametrize(
    ("direct_url", "line", "why"),
    [
        (
            {"url": "file:///home/me/pulumi_d6-0.1.0-py3-none-any.whl", "archive_info": {}},
            "pulumi-d6 @ file:///home/me/pulumi_d6-0.1.0-py3-none-any.whl",
            "a local path",
        ),
        (
            {"url": "file:///home/me/pulumi-d6", "dir_info": {"editable": True}},
            "pulumi-d6 @ file:///home/me/pulumi-d6",
            "an editable checkout",
        ),
        (
            {"url": "file:///home/me/pulumi-d6", "dir_info": {}},
            "pulumi-d6 @ file:///home/me/pulumi-d6",
            "a local path",
        ),
        (  # `pip install git+file://...`: the vcs branch must not pin it silently
            {"url": "file:///home/me/pulumi-d6", "vcs_info": GIT},
            "pulumi-d6 @ git+file:///home/me/pulumi-d6@0123abc",
            "a local path",
        ),
        (
            {"url": "http://files.acme/pulumi_d6-0.1.0.whl", "archive_info": {}},
            "pulumi-d6 @ http://files.acme/pulumi_d6-0.1.0.whl",
            "a http:// URL",
        ),
        (
            {"url": "https://github.com/acme/pulumi-d6.git", "vcs_info": {"vcs": "git"}},
            "pulumi-d6 @ git+https://github.com/acme/pulumi-d6.git",
            "with no commit recorded",
        ),
        ("{not json", "EDIT ME: replace this line", "a source pip did not record readably"),
        (  # the loopback is this machine, over https or not: CI's runner has no such server
            {"url": "http://127.0.0.1:8123/d/pulumi_d6-0.1.0-py3-none-any.whl", "archive_info": {}},
            "pulumi-d6 @ http://127.0.0.1:8123/d/pulumi_d6-0.1.0-py3-none-any.whl",
            "a loopback URL, this machine only",
        ),
        (
            {"url": "https://localhost/pulumi-d6.git", "vcs_info": GIT},
            "pulumi-d6 @ git+https://localhost/pulumi-d6.git@0123abc",
            "a loopback URL, this machine only (https://localhost/pulumi-d6.git)",
        ),
    ],
)
def test_a_source_only_this_machine_has_is_marked_local_only(
    monkeypatch: pytest.MonkeyPatch, direct_url: dict[str, Any] | str, line: str, why: str
) -> None:
    pin = pinned(monkeypatch, direct_url)
    assert pin.local
    assert why in pin.why
    text = pins.requirements_txt(pin)
    assert [x for x in text.splitlines() if x.startswith(line)] == [
        f"{pin.requirement}  # local only"
    ]
    assert "A CI runner cannot install the pulumi-d6 line below" in text
    assert "until you edit that line (the one marked\n# '# local only')" in text
    assert "--requirement" not in text, "the fix is the edit; init again would keep the file"
    assert [x.removeprefix("#   ") for x in text.splitlines() if x.startswith("#   ")] == list(
        pins.FORMS
    )


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LocalHost:8443",
        "127.1.2.3",
        "[::1]:8443",
        "0.0.0.0:80",
        "[::]",
        "u:p@127.0.0.1",
    ],
)
def test_every_form_of_this_machine_is_a_loopback_url(
    monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    pin = pinned(monkeypatch, {"url": f"https://{host}/pulumi-d6.git", "vcs_info": GIT})
    assert pin.local
    assert pin.why.startswith("a loopback URL, this machine only (https://")
    assert "u:p@" not in pin.why, "credentials in the URL are not echoed"


@pytest.mark.parametrize("host", ["127.0.0.1.example.com", "localhost.acme.dev", "[2001:db8::1]"])
def test_a_host_that_only_looks_local_is_installable(
    monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    pin = pinned(monkeypatch, {"url": f"https://{host}/pulumi-d6.git", "vcs_info": GIT})
    assert not pin.local, pin.why


def test_the_local_source_is_named_whole_never_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "http://127.0.0.1:8123/" + "a/" * 60 + "pulumi_d6-0.1.0-py3-none-any.whl"
    pin = pinned(monkeypatch, {"url": url, "archive_info": {"hashes": {"sha256": "f" * 64}}})
    assert pin.why == f"a loopback URL, this machine only ({url})"
    assert pin.requirement == f"pulumi-d6 @ {url}#sha256={'f' * 64}"


def test_a_copy_not_installed_at_all_is_local(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(_: str) -> Any:
        raise metadata.PackageNotFoundError("pulumi-d6")

    monkeypatch.setattr("importlib.metadata.distribution", missing)
    pin = pins.installed()
    assert pin.local
    assert pin.requirement.startswith("pulumi-d6 @ file:///")


@pytest.mark.parametrize(
    ("spec", "line", "local"),
    [
        ("pulumi-d6 @ git+https://github.com/acme/pulumi-d6.git@0123abc", None, False),
        ("pulumi_d6[emulator]@git+ssh://git@github.com/acme/pulumi-d6.git@9f3c2a1", None, False),
        (
            "pulumi-d6 @ https://${USER}:${TOKEN}@files.acme/pulumi_d6-0.1.0-py3-none-any.whl",
            None,
            False,
        ),
        (
            "pulumi-d6 @ https://${TOKEN}@files.acme/pulumi_d6-0.1.0-py3-none-any.whl",
            "pulumi-d6@ https://${TOKEN}@files.acme/pulumi_d6-0.1.0-py3-none-any.whl",
            False,
        ),
        ("pulumi-d6 @ file:///tmp/dist/pulumi_d6-0.1.0-py3-none-any.whl", None, True),
        ("pulumi-d6 @ git+file:///srv/pulumi-d6@0123abc", None, True),
    ],
)
def test_requirement_option_takes_any_pinned_pep_508_line(
    spec: str, line: str | None, local: bool
) -> None:
    pin = pins.from_option(spec)
    assert pin.local is local
    assert pin.requirement.replace(" ", "") == (line or spec).replace(" ", "")
    assert pin.note == ""


def test_a_version_pin_is_taken_with_a_warning_about_the_name() -> None:
    """From an index the user controls, on purpose; but the name is not yet ours on PyPI."""
    pin = pins.from_option("pulumi-d6==0.1.0")
    assert (pin.requirement, pin.local) == ("pulumi-d6==0.1.0", False)
    assert pin.note.startswith(
        "pulumi-d6==0.1.0 installs pulumi-d6 by name from a package index, and the name is not "
        "yet registered on PyPI for this project "
        "(see https://github.com/pulumi-d6/pulumi-d6#install)"
    )


@pytest.mark.parametrize(
    ("spec", "line", "why"),
    [
        (
            "pulumi-d6 @ http://127.0.0.1:8123/dist/pulumi_d6-0.1.0-py3-none-any.whl#sha256=ab12",
            None,
            "a loopback URL, this machine only (http://127.0.0.1:8123/dist/pulumi_d6-0.1.0-py3-"
            "none-any.whl#sha256=ab12)",
        ),
        ("pulumi-d6 @ https://localhost:8443/p.whl", None, "a loopback URL, this machine only"),
        ("pulumi-d6 @ http://files.acme/p.whl", None, "a http:// URL (http://files.acme/p.whl)"),
    ],
)
def test_a_requirement_ci_cannot_reach_is_written_marked(
    spec: str, line: str | None, why: str
) -> None:
    pin = pins.from_option(spec)
    assert pin.local
    assert why in pin.why
    assert pin.line == f"{spec}  # local only"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("pulumi-d6", "does not pin pulumi-d6 to a source: give a URL"),
        (
            "pulumi-d6 @ git+https://github.com/<owner>/pulumi-d6.git@<commit>",
            "--requirement 'pulumi-d6 @ git+https://github.com/<owner>/pulumi-d6.git@<commit>' "
            "still has the placeholder(s) <owner>, <commit>: put in the real values",
        ),
        (
            "pulumi-d6 @ https://<host>/pulumi_d6-0.1.0-py3-none-any.whl#sha256=<hash>",
            "still has the placeholder(s) <host>, <hash>",
        ),
        ("pulumi-d6 >= " + "x" * 400, "x…' is not a PEP 508 requirement"),  # cut inside quotes
        ("pulumi-d6>=0.1", "does not pin pulumi-d6 to a source"),
        ("requests==2.0", "names 'requests', not pulumi-d6"),
        ("pulumi-d6 @", "is not a PEP 508 requirement"),
        ("git+https://github.com/acme/pulumi-d6.git", "is not a PEP 508 requirement"),
        (
            "pulumi-d6 @ https://me:Pw-Secret-9@files.acme/p.whl",
            "must not carry a password or token in its URL",
        ),
        (
            "pulumi-d6 @ git+https://ghp_Pw-Secret-9@github.com/acme/pulumi-d6.git@9f3c2a1",
            "must not carry a password or token in its URL",
        ),
    ],
)
def test_requirement_option_refuses_what_ci_should_not_install(spec: str, message: str) -> None:
    with pytest.raises(pins.RequirementError) as refused:
        pins.from_option(spec)
    assert message in str(refused.value)
    assert str(refused.value).count("'") % 2 == 0, "every quote it opens is closed"
    assert "Pw-Secret-9" not in str(refused.value)


@pytest.mark.parametrize(
    ("spec", "what"),
    [
        ("pulumi-d6 @ git+https://github.com/me/pulumi-d6.git", "names no commit"),
        ("pulumi-d6 @ git+https://github.com/me/pulumi-d6.git@main", "names 'main', a branch"),
        ("pulumi-d6 @ git+ssh://git@github.com/me/pulumi-d6.git@v1", "names 'v1', a branch"),
    ],
)
def test_a_vcs_url_that_can_move_is_written_with_a_warning(spec: str, what: str) -> None:
    pin = pins.from_option(spec)
    assert (pin.local, pin.requirement) == (False, spec)
    url = spec.partition(" @ ")[2]
    assert pin.note == (
        f"{url} {what}{' or tag that can move' if 'branch' in what else ''}: CI installs whatever "
        "it points to on the day, so a change you never reviewed can run next to the d6 "
        "credentials. Append @<full commit hash> to the URL"
    )


@pytest.mark.parametrize(
    "spec",
    [
        f"pulumi-d6 @ git+https://github.com/me/pulumi-d6.git@{'a1' * 20}",
        "pulumi-d6 @ git+https://github.com/me/pulumi-d6.git@0123abc",
        f"pulumi-d6 @ https://files.example/pulumi_d6-0.1.0-py3-none-any.whl#sha256={'f' * 64}",
    ],
)
def test_a_commit_or_an_archive_hash_needs_no_warning(spec: str) -> None:
    assert pins.from_option(spec).note == ""
