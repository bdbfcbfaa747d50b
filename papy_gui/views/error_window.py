"""The window that shows a node's first error: its traceback and the item's index."""
from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Any

from .highlight import MONO, TRACEBACK, highlight, setup_tags


def show_first_error(master: tk.Misc, node: str, err: dict[str, Any]) -> tk.Toplevel:
    """Open a window titled "First error in NODE" for ``err`` (a
    ``RunState.errors`` entry: exc_type, message, traceback, index)."""
    top = tk.Toplevel(master)
    top.title(f"First error in {node}")
    frame = ttk.Frame(top, padding=8)
    frame.pack(fill="both", expand=True)
    ttk.Label(frame, text=f"{err.get('exc_type', '')}: {err.get('message', '')}   "
              f"(item index {err.get('index')})", style="Heading.TLabel").pack(anchor="w")
    text = tk.Text(frame, height=16, width=90, font=(MONO[0], 9))
    setup_tags(text)
    text.insert("1.0", err.get("traceback") or "(no traceback)")
    highlight(text, "1.0", "end-1c", TRACEBACK)
    text.configure(state="disabled")
    text.pack(fill="both", expand=True)
    ttk.Button(frame, text="Close", command=top.destroy).pack(anchor="e", pady=(6, 0))
    return top
