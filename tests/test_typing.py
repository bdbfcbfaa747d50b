"""The engine and the editor's checked modules pass mypy (STYLE.md: "Type public signatures").

The files and options come from ``[tool.mypy]`` in pyproject.toml, so this
runs exactly what ``.venv/bin/mypy`` runs from the repository root.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(300)
def test_engine_and_model_pass_mypy() -> None:
    assert importlib.util.find_spec("mypy") is not None, \
        "mypy is not installed: pip install -e '.[test]' (scripts/setup.sh does)"
    proc = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"mypy failed:\n{proc.stdout}{proc.stderr}"
