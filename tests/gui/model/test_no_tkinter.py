"""The model, the bridge and the command registry import no tkinter (STYLE.md)."""
import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(60)


def test_model_bridge_and_registry_import_no_tkinter():
    code = ("import sys; sys.modules['tkinter'] = None; import papy_gui.model.document, "
            "papy_gui.model.convert, papy_gui.model.files, papy_gui.model.palette, "
            "papy_gui.model.run_state, papy_gui.model.events, papy_gui.model.export, "
            "papy_gui.model.params, papy_gui.model.clipboard, papy_gui.bridge, "
            "papy_gui.commands.registry")
    subprocess.run([sys.executable, "-c", code], check=True)
