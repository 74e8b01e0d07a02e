"""Every module of the package has a place in the checked layer order (pyproject.toml).

import-linter only checks the modules a "layers" contract names, so a new module left out of
the list could import anything; this keeps the list complete.
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest itself depends on tomli before 3.11
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]


def test_every_top_level_module_is_in_the_layers_contract() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (layers,) = [c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    listed = {name.strip() for layer in layers["layers"] for name in layer.split("|")}
    package = ROOT / "pulumi_d6"
    modules = {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    modules |= {
        p.parent.name for p in package.glob("*/__init__.py") if p.parent.name != "templates"
    }
    assert sorted(modules - listed) == []
    assert sorted(listed - modules) == []
