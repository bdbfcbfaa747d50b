"""Tests of papy_gui.commands: the registry without a display, each feature under Xvfb."""
