"""The embedded Python console: interactive-console semantics in a Tk Text.

Multi-line input (``codeop`` decides when a statement is complete), history
with Up/Down, pygments highlighting of input and tracebacks, ``print`` output
captured into the view. Code runs on the Tk thread, in ``namespace``; the
source of every ``def`` typed here is kept so "Add as node" can write it out.
Each input is compiled as ``<console#N>`` and its text put in ``linecache``
(like IDLE's ``<pyshell#N>``): tracebacks show the lines, and ``inspect``
finds the source of a console function the script writer needs as a helper.

A debug session (:meth:`ConsoleView.debug`, the Errors view's "Debug in
console") runs pdb on a thread of its own (:mod:`papy_gui.debug_session`):
while it lasts, Return sends the typed line to pdb, and :meth:`poll` (the
window's tick) shows what pdb wrote; ``q`` leaves it and the ``>>>`` prompt
comes back.
"""
from __future__ import annotations

import ast
import codeop
import contextlib
import itertools
import linecache
import logging
import queue
import sys
import threading
import tkinter as tk
import traceback
from collections.abc import Callable
from tkinter import ttk

from ..debug_session import DebugSession
from .highlight import MONO, TRACEBACK, highlight, setup_tags

log = logging.getLogger(__name__)


class _Writer:
    """The console's stdout/stderr while its input runs.

    ``sys.stdout`` is process-wide: while it is redirected here, another
    thread (an engine thread of a run going on) may print too, and only the
    Tk thread may touch the widget -- so other threads' text is queued and
    drawn by :meth:`ConsoleView.poll`.
    """

    def __init__(self, console: "ConsoleView", tag: str) -> None:
        self.console, self.tag = console, tag

    def write(self, s: str) -> int:
        if threading.get_ident() == self.console.tk_thread:
            self.console.write(s, self.tag)
        else:
            self.console.from_threads.put((s, self.tag))
        return len(s)

    def flush(self) -> None:
        pass


def _remember_source(filename: str, source: str) -> None:
    """Keep ``source`` in linecache under ``filename`` (an mtime of None: never evicted)."""
    text = source if source.endswith("\n") else source + "\n"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)


class ConsoleView(ttk.Frame):
    def __init__(self, master: tk.Misc, namespace: dict,
                 add_node: Callable[[str, str], object] | None = None,
                 debug_ended: Callable[[], object] | None = None) -> None:
        super().__init__(master)
        self.namespace = namespace
        self.add_node = add_node
        self.debug_ended = debug_ended   # called once a debug session is over
        self.sources: dict[str, str] = {}
        self.history: list[str] = []
        self._hist_pos = 0
        self._buffer: list[str] = []
        self._compiler = codeop.CommandCompiler()
        self._inputs = itertools.count(1)
        self.session: DebugSession | None = None
        self.tk_thread = threading.get_ident()
        self.from_threads: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
        bar = ttk.Frame(self)
        bar.pack(fill="x")
        self.add_button = ttk.Menubutton(bar, text="Add as node")
        self.add_menu = tk.Menu(self.add_button, tearoff=False, postcommand=self._fill_menu)
        self.add_button["menu"] = self.add_menu
        self.add_button.pack(side="left", padx=4, pady=2)
        ttk.Label(bar, text="plumber, doc, papy_engine and node functions are in scope",
                  style="Hint.TLabel").pack(side="left", padx=8)
        # the console's functions: drag one onto the canvas (or double click) to add it
        side = ttk.Frame(self)
        side.pack(side="right", fill="y", padx=(4, 2))
        ttk.Label(side, text="Functions", style="Heading.TLabel").pack(anchor="w")
        ttk.Label(side, text="drag onto the canvas", style="Hint.TLabel").pack(anchor="w")
        self.func_list = tk.Listbox(side, width=18, height=5, exportselection=False,
                                    activestyle="none", cursor="hand2")
        self.func_list.pack(fill="y", expand=True)
        self.func_list.bind("<ButtonPress-1>", self._on_func_press)
        self.func_list.bind("<B1-Motion>", lambda e: self._dragging and
                            self.func_list.configure(cursor="plus"))
        self.func_list.bind("<ButtonRelease-1>", self._on_func_release)
        self.func_list.bind("<Double-Button-1>", self._on_func_double)
        self._dragging: str | None = None
        self.text = tk.Text(self, font=MONO, wrap="char", undo=False, height=8,
                            background="#fbfbfc", insertbackground="#1d2935", padx=6, pady=4)
        scroll = ttk.Scrollbar(self, command=self.text.yview)
        self.text.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.text.pack(fill="both", expand=True)
        setup_tags(self.text)
        self.text.tag_configure("stdout", foreground="#1d2935")
        self.text.tag_configure("stderr", foreground="#c0392b")
        self.text.tag_configure("prompt", foreground="#8a8f98")
        t = self.text
        t.bind("<Return>", self._on_return)
        t.bind("<KP_Enter>", self._on_return)
        t.bind("<Up>", lambda e: self._on_history(-1))
        t.bind("<Down>", lambda e: self._on_history(1))
        t.bind("<KeyRelease>", lambda e: self._highlight_input())
        t.bind("<BackSpace>", self._on_backspace)
        t.bind("<Key>", self._on_key, add=True)
        self.write("PaPy console: Python %s\n" % sys.version.split()[0], "prompt")
        self._prompt(">>> ")

    # -- text helpers -------------------------------------------------------------
    def write(self, s: str, tag: str = "stdout") -> None:
        self.text.insert("end", s, (tag,))
        self.text.see("end")

    def _prompt(self, prompt: str) -> None:
        self.text.insert("end", prompt, ("prompt",))
        self.text.mark_set("input_start", "end-1c")
        self.text.mark_gravity("input_start", "left")
        self.text.mark_set("insert", "end")
        self.text.see("end")

    def current_input(self) -> str:
        return self.text.get("input_start", "end-1c")

    def set_input(self, s: str) -> None:
        self.text.delete("input_start", "end-1c")
        self.text.insert("end", s)
        self._highlight_input()

    def _highlight_input(self) -> None:
        highlight(self.text, "input_start", "end-1c")

    def _on_key(self, event: tk.Event):
        # typing before the prompt jumps to the end (output is read-only)
        if event.char and self.text.compare("insert", "<", "input_start"):
            self.text.mark_set("insert", "end")

    def _on_backspace(self, _event):
        if self.text.compare("insert", "<=", "input_start") and not self.text.tag_ranges("sel"):
            return "break"
        return None

    def _on_history(self, step: int) -> str:
        if not self.history:
            return "break"
        self._hist_pos = min(max(0, self._hist_pos + step), len(self.history))
        self.set_input(self.history[self._hist_pos] if self._hist_pos < len(self.history) else "")
        return "break"

    # -- running ------------------------------------------------------------------
    def _on_return(self, _event=None) -> str:
        line = self.current_input()
        self.text.insert("end", "\n")
        if self.session is not None:  # a line for pdb
            if line.strip():
                self.history.append(line)
            self._hist_pos = len(self.history)
            self.text.mark_set("input_start", "end-1c")
            self.session.feed(line)
            return "break"
        self.push(line)
        return "break"

    # -- debugging ------------------------------------------------------------------
    def debug(self, session: DebugSession, header: str) -> bool:
        """Start ``session`` here (``header``, one line, says what is debugged);
        False if one is still going (leave it with q first)."""
        if self.session is not None:
            return False
        typed = self.current_input()
        self.text.delete("input_start", "end-1c")
        # as if typed at the prompt: the call, and what it is (a comment)
        self.text.insert("end", "func(inbox)", ())
        self.write(f"  # {header}\n", "prompt")
        self.text.mark_set("input_start", "end-1c")
        self.session = session
        session.start()
        if typed.strip():
            self.history.append(typed)
        return True

    def poll(self) -> None:
        """Show what other threads printed here and what the debug session wrote;
        the ``>>>`` prompt once the session ended. Called from the window's tick
        (cheap when there is nothing)."""
        while not self.from_threads.empty():
            text, tag = self.from_threads.get_nowait()
            at = self.text.index("input_start")  # above the prompt's line
            self.text.insert(f"{at} linestart", text, (tag,))
        session = self.session
        if session is None:
            return
        done = session.done  # before reading: what it wrote last is then read too
        out = session.take_output()
        if out:
            # before the text typed at the prompt, if any (pdb writes while it works)
            at = self.text.index("input_start")
            self.text.insert(at, out, ("stdout",))
            self.text.mark_set("input_start", f"{at}+{len(out)}c")
            self.text.see("end")
        if done:
            self.session = None
            self._prompt(">>> ")
            if self.debug_ended is not None:
                self.debug_ended()

    def close(self) -> None:
        """End a debug session (the window closes)."""
        if self.session is not None:
            self.session.close()
            self.session = None

    def push(self, line: str) -> bool:
        """Feed one line like ``InteractiveConsole.push``; True if more is needed."""
        if line.strip():
            self.history.append(line)
        self._hist_pos = len(self.history)
        self._buffer.append(line)
        source = "\n".join(self._buffer)
        filename = f"<console#{next(self._inputs)}>"
        try:
            code = self._compiler(source, filename, "single")
        except (SyntaxError, OverflowError, ValueError):
            self._buffer = []
            self._show_exception(syntax=True)
            self._prompt(">>> ")
            return False
        if code is None:
            self._prompt("... ")
            return True
        self._buffer = []
        _remember_source(filename, source)
        self._remember_defs(source)
        self._exec(code)
        self._prompt(">>> ")
        return False

    def run_source(self, source: str) -> None:
        """Run a block of code as if typed (used by tests and "Add as node")."""
        self.write(source.rstrip("\n") + "\n", "prompt")
        self._remember_defs(source)
        filename = f"<console#{next(self._inputs)}>"
        try:
            code = compile(source, filename, "exec")
        except SyntaxError:
            self._show_exception(syntax=True)
            return
        _remember_source(filename, source)
        self._exec(code)

    def _exec(self, code) -> None:
        out, err = _Writer(self, "stdout"), _Writer(self, "stderr")
        hook = sys.displayhook
        sys.displayhook = lambda v: (None if v is None else (out.write(repr(v) + "\n"),
                                                            self.namespace.__setitem__("_", v)))
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                exec(code, self.namespace)
        except SystemExit:
            self.write("(SystemExit ignored in the console)\n", "stderr")
        except BaseException:
            self._show_exception()
        finally:
            sys.displayhook = hook
            self.refresh_functions()

    def _show_exception(self, syntax: bool = False) -> None:
        """The current exception as the user's code raised it: a syntax error
        without frames (they would be the compiler's and this view's), any
        other error without the frame that ran the input."""
        etype, value, tb = sys.exc_info()
        if syntax:
            text = "".join(traceback.format_exception_only(etype, value))
        else:
            text = "".join(traceback.format_exception(etype, value, tb.tb_next if tb else None))
        start = self.text.index("end-1c")
        self.text.insert("end", text, ("stderr",))
        highlight(self.text, start, "end-1c", TRACEBACK)
        self.text.see("end")

    def _remember_defs(self, source: str) -> None:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                seg = ast.get_source_segment(source, node, padded=False)
                decos = "".join(f"@{ast.get_source_segment(source, d)}\n" for d in node.decorator_list)
                self.sources[node.name] = decos + (seg or "") + "\n"

    def functions(self) -> list[str]:
        """Functions defined in this console that still exist in the namespace."""
        return [n for n in self.sources if callable(self.namespace.get(n))]

    def _fill_menu(self) -> None:
        self.add_menu.delete(0, "end")
        names = self.functions()
        if not names:
            self.add_menu.add_command(label="(define a function first)", state="disabled")
        for n in names:
            self.add_menu.add_command(label=n, command=lambda n=n: self.add_function(n))

    def add_function(self, name: str, x_root: int | None = None, y_root: int | None = None):
        """Add console function ``name`` as a node (dropped at screen x_root, y_root)."""
        if self.add_node is not None and name in self.sources:
            return self.add_node(name, self.sources[name], x_root, y_root)
        return None

    def refresh_functions(self) -> None:
        names = self.functions()
        if list(self.func_list.get(0, "end")) != names:
            self.func_list.delete(0, "end")
            for n in names:
                self.func_list.insert("end", n)

    def _on_func_press(self, event: tk.Event) -> None:
        i = self.func_list.nearest(event.y)
        names = self.func_list.get(0, "end")
        self._dragging = names[i] if 0 <= i < len(names) else None

    def _on_func_release(self, event: tk.Event) -> None:
        name, self._dragging = self._dragging, None
        self.func_list.configure(cursor="hand2")
        target = self.winfo_containing(event.x_root, event.y_root)
        if name is not None and target is not None and target is not self.func_list:
            self.add_function(name, event.x_root, event.y_root)

    def _on_func_double(self, event: tk.Event) -> str:
        i = self.func_list.nearest(event.y)
        names = self.func_list.get(0, "end")
        if 0 <= i < len(names):
            self.add_function(names[i])
        return "break"
