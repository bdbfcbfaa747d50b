"""Packaging: what a wheel of the project contains."""
from helpers import ROOT


def test_every_package_is_declared_for_the_wheel():
    """pyproject lists packages by hand: a package left out is silently missing from a wheel."""
    import tomllib
    from pathlib import Path
    root = ROOT
    declared = set(tomllib.loads((root / "pyproject.toml").read_text())
                   ["tool"]["setuptools"]["packages"])
    for top in ("papy_engine", "papy_gui"):
        for init in (root / top).rglob("__init__.py"):
            name = ".".join(init.parent.relative_to(root).parts)
            assert name in declared, f"{name} is not in pyproject's [tool.setuptools] packages"
