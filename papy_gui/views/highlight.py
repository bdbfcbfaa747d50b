"""Pygments highlighting of a Tk Text range, and a small code editor widget.

Like IDLE's colorizer, re-highlighting is scheduled (``after_idle``) rather
than done on every key, and the pending call is cancelled on destroy.
"""
from __future__ import annotations

import tkinter as tk

from pygments import lex
from pygments.lexers import PythonLexer, PythonTracebackLexer
from pygments.token import Token

COLORS = {
    Token.Keyword: "#a626a4", Token.Name.Builtin: "#0e7c86", Token.Name.Function: "#2a5db0",
    Token.Name.Class: "#2a5db0", Token.Name.Decorator: "#986801",
    Token.Literal.String: "#50a14f", Token.Literal.Number: "#986801",
    Token.Comment: "#8a8f98", Token.Operator.Word: "#a626a4", Token.Name.Exception: "#c0392b",
    Token.Generic.Error: "#c0392b", Token.Generic.Traceback: "#c0392b",
    Token.Generic.Heading: "#c0392b",
}
# stripnl=False: pygments drops leading newlines by default, which would shift
# every tag of a text that starts with an empty line
PYTHON = PythonLexer(stripnl=False)
TRACEBACK = PythonTracebackLexer(stripnl=False)
MONO = ("DejaVu Sans Mono", 10)


def _tag_for(ttype) -> str | None:
    while ttype is not Token and ttype not in COLORS:
        ttype = ttype.parent
    return f"tok:{ttype}" if ttype in COLORS else None


def setup_tags(text: tk.Text) -> None:
    for ttype, color in COLORS.items():
        text.tag_configure(f"tok:{ttype}", foreground=color)


def highlight(text: tk.Text, start: str, end: str, lexer=PYTHON) -> None:
    """Re-colour ``text[start:end]`` with ``lexer`` (tags ``tok:*``)."""
    for tag in text.tag_names():
        if tag.startswith("tok:"):
            text.tag_remove(tag, start, end)
    source = text.get(start, end)
    index = text.index(start)
    for ttype, value in lex(source, lexer):
        nxt = text.index(f"{index} + {len(value)} chars")
        tag = _tag_for(ttype)
        if tag and value.strip():
            text.tag_add(tag, index, nxt)
        index = nxt


class CodeText(tk.Text):
    """A Text with Python highlighting, 4-space tabs and auto-indent.

    BackSpace in a line's leading spaces removes one level (to the previous
    multiple of four), as Tab adds one; Ctrl+A selects all of the text.
    """

    def __init__(self, master: tk.Misc, **kw) -> None:
        kw.setdefault("font", MONO)
        kw.setdefault("undo", True)
        kw.setdefault("wrap", "none")
        kw.setdefault("height", 10)
        super().__init__(master, **kw)
        setup_tags(self)
        self._after: str | None = None
        self.bind("<KeyRelease>", lambda e: self.schedule())
        self.bind("<Tab>", self._on_tab)
        self.bind("<Return>", self._on_return)
        self.bind("<BackSpace>", self._on_backspace)
        self.bind("<Control-a>", self._select_all)

    def set(self, source: str) -> None:
        self.delete("1.0", "end")
        self.insert("1.0", source)
        self.edit_reset()
        self.schedule()

    def value(self) -> str:
        return self.get("1.0", "end-1c")

    def schedule(self) -> None:
        if self._after is None:
            self._after = self.after_idle(self._rehighlight)

    def _rehighlight(self) -> None:
        self._after = None
        highlight(self, "1.0", "end-1c")

    def _on_tab(self, _event) -> str:
        self.insert("insert", "    ")
        return "break"

    def _on_backspace(self, _event) -> str | None:
        if self.tag_ranges("sel"):
            return None   # Tk deletes the selection
        before = self.get("insert linestart", "insert")
        if not before or before.strip(" "):
            return None   # not in the indentation: one character, as usual
        keep = (len(before) - 1) // 4 * 4
        self.delete(f"insert linestart + {keep} chars", "insert")
        return "break"

    def _select_all(self, _event) -> str:
        self.tag_add("sel", "1.0", "end-1c")
        self.mark_set("insert", "end-1c")
        return "break"

    def _on_return(self, _event) -> str:
        line = self.get("insert linestart", "insert")
        indent = line[:len(line) - len(line.lstrip())]
        if line.rstrip().endswith(":"):
            indent += "    "
        self.insert("insert", "\n" + indent)
        self.see("insert")
        return "break"

    def destroy(self) -> None:
        if self._after is not None:
            self.after_cancel(self._after)
            self._after = None
        super().destroy()
