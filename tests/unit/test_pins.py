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
        ("{not json", "EDIT ME: pass --requirement", "a source pip did not record readably"),
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
    assert "--requirement" in text


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
        ("pulumi_d6[emulator]@git+ssh://git@github.com/acme/pulumi-d6.git@9f", None, False),
        ("pulumi-d6==0.1.0", None, False),  # on purpose: from an index the user controls
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


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("pulumi-d6", "does not pin pulumi-d6 to a source: give a URL"),
        ("pulumi-d6>=0.1", "does not pin pulumi-d6 to a source"),
        ("requests==2.0", "names 'requests', not pulumi-d6"),
        ("pulumi-d6 @", "is not a PEP 508 requirement"),
        ("git+https://github.com/acme/pulumi-d6.git", "is not a PEP 508 requirement"),
        (
            "pulumi-d6 @ https://me:Pw-Secret-9@files.acme/p.whl",
            "must not carry a password or token in its URL",
        ),
        (
            "pulumi-d6 @ git+https://ghp_Pw-Secret-9@github.com/acme/pulumi-d6.git@9f",
            "must not carry a password or token in its URL",
        ),
    ],
)
def test_requirement_option_refuses_what_ci_should_not_install(spec: str, message: str) -> None:
    with pytest.raises(pins.RequirementError) as refused:
        pins.from_option(spec)
    assert message in str(refused.value)
    assert "Pw-Secret-9" not in str(refused.value)
