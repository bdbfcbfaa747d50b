"""Read-only text: small windows (help pages, a node's documentation, one value
shown whole) and the read-only Text of the Log and Output tabs."""
from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from .highlight import MONO, highlight, setup_tags


_NAV_KEYS = {"Up", "Down", "Left", "Right", "Prior", "Next", "Home", "End"}


def read_only_key(event: tk.Event) -> str | None:
    """A ``<Key>`` binding for a Text that shows but never edits: navigation
    and Ctrl+C / Ctrl+A go through, every other key is refused."""
    if event.keysym in _NAV_KEYS or (event.state & 0x4 and event.keysym.lower() in ("c", "a")):
        return None
    return "break"


def log_text(master: tk.Misc, **options) -> tk.Text:
    """A scrolled Text packed into ``master`` (monospaced, 9 pt) that shows
    lines and refuses edits: read-only by bindings, not by toggling -state,
    since configuring a Text makes Tk re-measure every line (tens of ms per
    draw with a full view)."""
    text = tk.Text(master, height=8, wrap="none", font=(MONO[0], 9),
                   background="#fbfbfc", padx=6, pady=2, **options)
    text.bind("<Key>", read_only_key)
    for seq in ("<<Paste>>", "<<Cut>>", "<<Clear>>", "<<PasteSelection>>"):
        text.bind(seq, lambda e: "break")
    scroll = ttk.Scrollbar(master, command=text.yview)
    text.configure(yscrollcommand=scroll.set)
    scroll.pack(side="right", fill="y")
    text.pack(fill="both", expand=True)
    return text


def _window(master: tk.Misc, title: str, **text_options) -> tuple[tk.Toplevel, tk.Text]:
    """A Toplevel titled ``title`` with a scrolled Text and a Close button;
    Escape closes it too."""
    top = tk.Toplevel(master)
    top.title(title)
    top.transient(master.winfo_toplevel())
    frame = ttk.Frame(top, padding=8)
    frame.pack(fill="both", expand=True)
    body = tk.Text(frame, background="#fbfbfc", **text_options)
    bar = ttk.Scrollbar(frame, command=body.yview)
    body.configure(yscrollcommand=bar.set)
    ttk.Button(frame, text="Close", command=top.destroy).pack(side="bottom", anchor="e",
                                                               pady=(6, 0))
    bar.pack(side="right", fill="y")
    body.pack(fill="both", expand=True)
    top.bind("<Escape>", lambda e: top.destroy())
    return top, body


def show_text(master: tk.Misc, title: str, text: str, code: str | None = None,
              width: int = 72, height: int = 18) -> tk.Toplevel:
    """Open a window titled ``title`` showing ``text`` (then ``code``, highlighted).

    Escape or Close closes it. Returns the Toplevel (tests read and close it).
    """
    top, body = _window(master, title, width=width, height=height, wrap="word",
                        relief="flat", padx=8, pady=6, font="TkDefaultFont")
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
    top.focus_set()
    return top


def show_value(master: tk.Misc, title: str, text: str) -> tk.Toplevel:
    """A window showing ``text`` whole (monospaced, read-only); Escape closes it."""
    top, body = _window(master, title, width=100, height=28, wrap="char", font=MONO)
    body.insert("1.0", text)
    body.configure(state="disabled")
    top.focus_set()
    return top
