"""Display-free tests of papy_gui.model, one module per model module (no Xvfb, not marked gui)."""
