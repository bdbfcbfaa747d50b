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


def test_the_engine_runs_without_the_dask_extra_and_says_how_to_get_it():
    """distributed is optional: nothing imports it until a pool asks for Dask."""
    import subprocess
    import sys
    code = (
        "import sys; sys.modules['distributed'] = None\n"   # as if not installed
        "from papy_engine import IMap, IMapError, Plumber\n"
        "import papy_engine.cli, papy_engine.script, papy_engine.pool.dask_cluster\n"
        "assert list(IMap(abs, range(-3, 3), worker_num=2)) == [3, 2, 1, 0, 1, 2]\n"
        "try:\n"
        "    IMap(worker_num=0, dask='local:2')\n"
        "except IMapError as exc:\n"
        "    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "pip install 'papy-studio[dask]'" in out.stdout
