"""The property panel's form: its Tk variables are freed on the Tk thread."""
from __future__ import annotations

import gc
import weakref

import pytest

from papy_gui.views.form import Form

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


def test_form_frees_its_variables_on_the_tk_thread(app):
    form = Form(app.root)
    form.entry("x", "X", "1", lambda v: None)
    ref = weakref.ref(form.vars["x"])
    gc.disable()  # a freed Variable must not wait for the cyclic GC (another thread)
    try:
        form.destroy()
        del form
        assert ref() is None
    finally:
        gc.enable()
