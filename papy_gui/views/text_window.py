"""A small read-only window of text: help pages, a node's documentation."""
from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from .highlight import MONO, highlight, setup_tags


def show_text(master: tk.Misc, title: str, text: str, code: str | None = None,
              width: int = 72, height: int = 18) -> tk.Toplevel:
    """Open a window titled ``title`` showing ``text`` (then ``code``, highlighted).

    Escape or Close closes it. Returns the Toplevel (tests read and close it).
    """
    top = tk.Toplevel(master)
    top.title(title)
    top.transient(master.winfo_toplevel())
    frame = ttk.Frame(top, padding=8)
    frame.pack(fill="both", expand=True)
    body = tk.Text(frame, width=width, height=height, wrap="word", relief="flat",
                   background="#fbfbfc", padx=8, pady=6, font="TkDefaultFont")
    bar = ttk.Scrollbar(frame, command=body.yview)
    body.configure(yscrollcommand=bar.set)
    ttk.Button(frame, text="Close", command=top.destroy).pack(side="bottom", anchor="e",
                                                               pady=(6, 0))
    bar.pack(side="right", fill="y")
    body.pack(fill="both", expand=True)
    body.tag_configure("heading", font=("TkDefaultFont", 10, "bold"))
    body.tag_configure("code", font=MONO)
    setup_tags(body)
    for line in text.splitlines(True):
        body.insert("end", line[2:] if line.startswith("# ") else line,
                    ("heading",) if line.startswith("# ") else ())
    if code:
        start = body.index("end-1c")
        body.insert("end", "\n" + code, ("code",))
        highlight(body, start, "end-1c")
    body.configure(state="disabled")
    top.bind("<Escape>", lambda e: top.destroy())
    top.focus_set()
    return top
