#!/usr/bin/env bash
# Create .venv (if needed) and install PaPy Studio into it, editable, with the
# extras named in $PAPY_EXTRAS (default "test,dask": the whole suite, including
# the tests on a local Dask cluster). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[${PAPY_EXTRAS:-test,dask}]"
if ! .venv/bin/python -c "import tkinter" 2>/dev/null; then
    echo "setup: this Python has no tkinter; the editor needs it (Debian: apt-get install python3-tk)" >&2
fi
