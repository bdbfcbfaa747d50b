"""Canvas gestures: select, move, connect port to port, rubber band, pan, zoom.

Each gesture turns into one Document edit on release (so one drag is one
undo step). Refused edits (a cycle, a run in progress...) show their reason
through ``message(text, error)``.
Bindings: Button-1 on a node selects/moves it (Shift toggles), from an
output port drags a pipe, on the background draws a rubber band; middle or
right drag pans, a right click without a drag opens the context menu of
what is under the pointer (:mod:`context_menu`); the wheel zooms about the
pointer; double click on the background (or dropping a pipe there) opens
the quick-add search.
"""
from __future__ import annotations

import logging
import tkinter as tk
from collections.abc import Callable

from ..model import clipboard
from ..model.errors import EditError
from ..model.palette import NodeType, Palette, add_from_type, can_take
from .canvas_view import NODE_H, NODE_W, CanvasView
from .quick_add import QuickAdd

log = logging.getLogger(__name__)


class CanvasController:
    def __init__(self, view: CanvasView, palette: Palette,
                 message: Callable[[str, bool], None]) -> None:
        self.view = view
        self.canvas = view.canvas
        self.palette = palette
        self.message = message
        self.on_badge: Callable[[str], None] | None = None
        # (part, what, px, py, x_root, y_root) of a right click: the context menu
        self.on_context: Callable[..., None] | None = None
        self.clip: dict | None = None
        self.quick_add: QuickAdd | None = None
        self._mode: str | None = None
        self._start = (0.0, 0.0)
        self._origin: dict[str, tuple[float, float]] = {}
        self._from: str | None = None
        self._pan_at = self._pan_from = (0, 0)
        self._panned = False  # the right button moved: a pan, not a click
        c = self.canvas
        c.bind("<ButtonPress-1>", self._on_press)
        c.bind("<B1-Motion>", self._on_motion)
        c.bind("<ButtonRelease-1>", self._on_release)
        c.bind("<Double-Button-1>", self._on_double)
        for b in ("2", "3"):
            c.bind(f"<ButtonPress-{b}>", self._on_pan_start)
            c.bind(f"<B{b}-Motion>", self._on_pan_motion)
        c.bind("<ButtonRelease-3>", self._on_right_release)
        c.bind("<MouseWheel>", lambda e: self._on_wheel(e, 1 if e.delta > 0 else -1))
        c.bind("<Button-4>", lambda e: self._on_wheel(e, 1))
        c.bind("<Button-5>", lambda e: self._on_wheel(e, -1))
        for key in ("<Delete>", "<BackSpace>"):
            c.bind(key, lambda e: self.delete_selection())
        c.bind("<Control-c>", lambda e: self.copy())
        c.bind("<Control-v>", lambda e: self.paste())
        c.bind("<Control-a>", lambda e: self.doc.select(self.doc.nodes))

    @property
    def doc(self):
        return self.view.doc

    # -- pressing, dragging, releasing -----------------------------------------
    def _on_press(self, event: tk.Event) -> None:
        self.canvas.focus_set()
        part, what = self.view.hit(event.x, event.y)
        self._start = (event.x, event.y)
        shift = bool(event.state & 0x0001)
        if part == "badge" and self.on_badge:
            self._mode = None
            self.on_badge(what)
        elif part == "port_out":
            self._mode, self._from = "connect", what
            x, y = self.view.port_xy(what, "out")
            self.canvas.create_line(x, y, event.x, event.y, dash=(4, 3), width=2,
                                    fill="#f08c2e", arrow=tk.LAST, tags=("temp",))
        elif part in ("node", "port_in"):
            self.view.select_edge(None)
            if shift:
                self.doc.toggle_selected(what)
            elif what not in self.doc.selection:
                self.doc.select([what])
            self._mode = "move"
            self._origin = {n: (self.doc.nodes[n].x, self.doc.nodes[n].y)
                            for n in self.doc.selection}
        elif part == "edge":
            self._mode = None
            self.doc.select([])
            self.view.select_edge(what)
        else:
            self.view.select_edge(None)
            if not shift:
                self.doc.select([])
            self._mode = "band"
            self.canvas.create_rectangle(event.x, event.y, event.x, event.y, dash=(3, 3),
                                         outline="#1f78d1", tags=("temp",))

    def _on_motion(self, event: tk.Event) -> None:
        x0, y0 = self._start
        if self._mode == "move":
            dx, dy = (event.x - x0) / self.view.scale, (event.y - y0) / self.view.scale
            self.view.preview = {n: (ox + dx, oy + dy) for n, (ox, oy) in self._origin.items()}
            for n in self._origin:
                self.view.draw_node(n)
                self.view.draw_edges_of(n)
        elif self._mode == "connect":
            x, y = self.view.port_xy(self._from, "out")
            self.canvas.coords("temp", x, y, event.x, event.y)
        elif self._mode == "band":
            self.canvas.coords("temp", x0, y0, event.x, event.y)

    def _on_release(self, event: tk.Event) -> None:
        mode, self._mode = self._mode, None
        self.canvas.delete("temp")
        if mode == "move":
            moved = {n: (round(x), round(y)) for n, (x, y) in self.view.preview.items()}
            self.view.preview = {}
            self.doc.move_nodes(moved)
            for n in moved:  # redraw at the model position (unchanged if a click)
                self.view.draw_node(n)
                self.view.draw_edges_of(n)
        elif mode == "connect":
            self._finish_connect(event)
        elif mode == "band":
            x0, y0 = self._start
            box = (min(x0, event.x), min(y0, event.y), max(x0, event.x), max(y0, event.y))
            if box[2] - box[0] > 3 or box[3] - box[1] > 3:
                inside = [n for n in self.doc.nodes if self._inside(n, box)]
                self.doc.select(inside, add=bool(event.state & 0x0001))

    def _inside(self, name: str, box: tuple) -> bool:
        x, y = self.view.to_screen(*self.view.pos(name))
        w, h = NODE_W * self.view.scale, NODE_H * self.view.scale
        return not (x + w < box[0] or x > box[2] or y + h < box[1] or y > box[3])

    def _finish_connect(self, event: tk.Event) -> None:
        part, what = self.view.hit(event.x, event.y)
        up = self._from
        if part in ("node", "port_in", "port_out", "badge") and what != up:
            self.connect(up, what)
        elif part == "background" and up is not None:
            self.open_quick_add(event.x, event.y, connect_from=up)
        elif what == up:
            self.message(f"a pipe from node {up!r} to itself would close a cycle", True)

    def connect(self, up: str, down: str) -> bool:
        return self.attempt(lambda: self.doc.connect(up, down), f"connected {up} → {down}")

    def attempt(self, edit: Callable[[], object], done: str | None = None) -> bool:
        """Run a document edit; a refusal goes to the status line. True if it ran."""
        try:
            edit()
        except EditError as exc:
            self.message(str(exc), True)
            return False
        if done:
            self.message(done, False)
        return True

    # -- other gestures ------------------------------------------------------------
    def _on_double(self, event: tk.Event) -> None:
        part, _ = self.view.hit(event.x, event.y)
        self._mode = None
        self.canvas.delete("temp")
        if part == "background":
            self.open_quick_add(event.x, event.y)

    def _on_pan_start(self, event: tk.Event) -> None:
        self._pan_at = self._pan_from = (event.x, event.y)
        self._panned = False

    def _on_pan_motion(self, event: tk.Event) -> None:
        x0, y0 = self._pan_at
        fx, fy = self._pan_from
        if not self._panned and abs(event.x - fx) + abs(event.y - fy) < 4:
            return  # a right click that wobbles is still a click
        self._panned = True
        self.view.pan(event.x - x0, event.y - y0)
        self._pan_at = (event.x, event.y)

    def _on_right_release(self, event: tk.Event) -> None:
        if self._panned or self.on_context is None:
            return
        part, what = self.view.hit(event.x, event.y)
        if part in ("port_in", "port_out", "badge"):
            part = "node"
        self.on_context(part, what, event.x, event.y, event.x_root, event.y_root)

    def _on_wheel(self, event: tk.Event, direction: int) -> None:
        self.view.zoom(1.15 if direction > 0 else 1 / 1.15, event.x, event.y)

    # -- commands ------------------------------------------------------------------
    def delete_selection(self) -> None:
        if self.doc.selection:
            names = list(self.doc.selection)
            self.attempt(self.doc.delete_selection, f"deleted {', '.join(names)}")
        elif self.view.selected_edge:
            a, b = self.view.selected_edge
            self.attempt(lambda: self.doc.disconnect(a, b), f"deleted the pipe {a} → {b}")

    def copy(self, names: list[str] | None = None) -> None:
        names = self.doc.selection if names is None else names
        if names:
            self.clip = clipboard.copy_nodes(self.doc, names)
            self.message(f"copied {len(self.clip['nodes'])} node(s)", False)

    def paste(self) -> list[str]:
        new: list[str] = []
        if self.clip:
            self.attempt(lambda: new.extend(clipboard.paste(self.doc, self.clip)))
        if new:
            self.message(f"pasted {len(new)} node(s): {', '.join(new)}", False)
        return new

    # -- adding nodes ----------------------------------------------------------------
    def centre(self) -> tuple[float, float]:
        """The canvas pixel at the middle of the view."""
        return self.canvas.winfo_width() / 2, self.canvas.winfo_height() / 2

    def canvas_point(self, x_root: int, y_root: int) -> tuple[float, float] | None:
        """The canvas pixel under screen point (x_root, y_root); None if off the canvas."""
        c = self.canvas
        px, py = x_root - c.winfo_rootx(), y_root - c.winfo_rooty()
        if 0 <= px <= c.winfo_width() and 0 <= py <= c.winfo_height():
            return px, py
        return None

    def node_origin(self, px: float, py: float) -> tuple[int, int]:
        """Where (world) a node centred at canvas pixel (px, py) goes, moved if
        needed so that all of it is in view."""
        x, y = self.view.to_world(*self.view.clamp(px, py))
        return round(x - NODE_W / 2), round(y - NODE_H / 2)

    def drop_type(self, ntype: NodeType, x_root: int | None, y_root: int | None) -> str | None:
        """A palette entry dropped at screen (x_root, y_root), or added near the
        centre (None); returns the new node's name."""
        if x_root is None or y_root is None:
            shift = len(self.doc.nodes) % 5  # a few in a row do not cover each other
            px, py = self.centre()
            point: tuple[float, float] | None = (px + 24 * shift, py + 18 * shift)
        else:
            point = self.canvas_point(x_root, y_root)
        if point is None:
            return None
        new = self.add_type_at(ntype, *point)
        if new is not None:
            self.message(f"added node {new}", False)
        return new

    def add_type_at(self, ntype: NodeType, px: float, py: float,
                    connect_from: str | None = None) -> str | None:
        """Create a node of ``ntype`` centred at canvas pixel (px, py), moved if
        needed so that all of it is in view (with ``connect_from``, connected
        to it: see :func:`~papy_gui.model.palette.add_from_type`)."""
        x, y = self.node_origin(px, py)
        try:
            name = add_from_type(self.doc, ntype, x, y, connect_from=connect_from)
        except EditError as exc:
            self.message(str(exc), True)
            return None
        self.doc.select([name])
        return name

    def open_quick_add(self, px: float, py: float, connect_from: str | None = None) -> QuickAdd:
        if self.quick_add is not None:
            self.quick_add.close()
        accept = None
        if connect_from:  # a dropped pipe: offer only the nodes that can take it
            need = self.doc.nodes[connect_from].out_n
            accept = lambda t: can_take(t, need)  # noqa: E731
        self.quick_add = QuickAdd(self.canvas, self.palette,
                                  lambda t: self.add_type_at(t, px, py, connect_from),
                                  title=f"Add and connect from {connect_from}" if connect_from
                                  else "Add node", accept=accept)
        self.quick_add.place(self.canvas.winfo_rootx() + int(px), self.canvas.winfo_rooty() + int(py))
        return self.quick_add
