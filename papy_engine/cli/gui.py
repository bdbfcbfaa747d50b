"""``papy gui [SCRIPT] [--run]``: open the desktop editor (:mod:`papy_gui`)."""
from __future__ import annotations

from collections.abc import Sequence

__all__ = ["main", "HELP"]

HELP = "open the desktop editor [SCRIPT]"


def main(argv: Sequence[str]) -> int:
    """Open the editor; returns its exit status."""
    # Imported here: the engine never imports tkinter unless the editor is asked for.
    from papy_gui.launch import main as gui_main
    return int(gui_main(list(argv)) or 0)
