"""The model, the bridge, the debug session and the command registry import no
tkinter (STYLE.md)."""
import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(60)


def test_model_bridge_and_registry_import_no_tkinter():
    code = ("import sys; sys.modules['tkinter'] = None; import papy_gui.model.document, "
            "papy_gui.model.convert, papy_gui.model.files, papy_gui.model.palette, "
            "papy_gui.model.run_state, papy_gui.model.events, papy_gui.model.export, "
            "papy_gui.model.params, papy_gui.model.clipboard, papy_gui.model.preview, "
            "papy_gui.model.output_log, papy_gui.model.run_data, papy_gui.model.throughput, "
            "papy_gui.model.progress, papy_gui.bridge, papy_gui.debug_session, "
            "papy_gui.commands.registry")
    subprocess.run([sys.executable, "-c", code], check=True)
