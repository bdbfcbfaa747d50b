"""Tests of papy_gui.views under Xvfb (marked gui), one module per view."""
