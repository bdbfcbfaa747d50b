"""Draws the document on a Tk canvas: nodes, ports, pipes, run badges.

Subscribes to the Document and the RunState and redraws the touched items;
it never edits the document (gestures live in :mod:`canvas_interact`).
World coordinates (the model's ``x, y``) map to canvas pixels by
``px = x * scale + ox``; zoom and pan change ``scale`` and ``(ox, oy)``.

Tags: every node item has ``node`` and ``n:<name>`` plus its part
(``body``, ``title``, ``port_in``, ``port_out``, ``badge``, ``counters``);
pipes have ``edge`` and ``e:<up>:<down>``.
"""
from __future__ import annotations

import logging
import tkinter as tk

from ..model.document import Document
from ..model.events import DocEvent, RunStateEvent
from ..model.run_state import RunState

log = logging.getLogger(__name__)

NODE_W, NODE_H, PORT_R = 176, 68, 7
FONT = "TkDefaultFont"
STATE_FILL = {"idle": "#ffffff", "building": "#eef3fb", "running": "#d7e9ff",
              "paused": "#fff0c2", "stopping": "#ececec", "stopped": "#e4e4e4",
              "finished": "#dcf3df", "failed": "#ffd9d9"}
HEADER = "#34495e"
HEADER_INPUT = "#2e7d62"
SELECT = "#1f78d1"
PORT_IN, PORT_OUT = "#3d8bd9", "#f08c2e"
EDGE, EDGE_SELECTED = "#7b8794", SELECT


def badge_text(errors: int) -> str:
    return str(errors) if errors < 1000 else "999+"


def _pill(x0: float, y0: float, x1: float, y1: float) -> list[float]:
    """Points of a smoothed polygon drawn as a pill: doubled points keep the
    straight edges straight, the corner points round the ends."""
    r = (y1 - y0) / 2
    return [x0 + r, y0, x0 + r, y0, x1 - r, y0, x1 - r, y0, x1, y0, x1, y0 + r, x1, y0 + r,
            x1, y1 - r, x1, y1 - r, x1, y1, x1 - r, y1, x1 - r, y1, x0 + r, y1, x0 + r, y1,
            x0, y1, x0, y1 - r, x0, y1 - r, x0, y0 + r, x0, y0 + r, x0, y0]


class CanvasView:
    """The drawing half of the canvas."""

    def __init__(self, canvas: tk.Canvas, doc: Document, run_state: RunState) -> None:
        self.canvas = canvas
        self.doc = doc
        self.run_state = run_state
        from ..theme import ui_scale
        self.ui = ui_scale(canvas)  # high-DPI: the default zoom, and its limits, grow
        self.scale = self.ui
        self.ox, self.oy = 20.0, 20.0
        self.preview: dict[str, tuple[float, float]] = {}  # positions during a drag
        self.selected_edge: tuple[str, str] | None = None
        # what the run items show now, so a stats tick only touches what changed
        self._drawn_run: dict[str, tuple[tuple, str]] = {}
        self._drawn_wait: dict[tuple[str, str], int] = {}
        # called after the view moves or the drawing's extent changes (scrollbars)
        self.on_view_changed: list = []
        run_state.subscribe(self._on_run)
        canvas.bind("<Configure>", self._on_configure, add=True)
        self._fit_pending = False
        self.set_document(doc)

    def set_document(self, doc: Document) -> None:
        self.doc.unsubscribe(self._on_doc)
        self.doc = doc
        doc.subscribe(self._on_doc)
        self.selected_edge = None
        self.redraw()

    # -- coordinates ------------------------------------------------------
    def to_screen(self, x: float, y: float) -> tuple[float, float]:
        return x * self.scale + self.ox, y * self.scale + self.oy

    def to_world(self, px: float, py: float) -> tuple[float, float]:
        return (px - self.ox) / self.scale, (py - self.oy) / self.scale

    def pos(self, name: str) -> tuple[float, float]:
        if name in self.preview:
            return self.preview[name]
        node = self.doc.nodes[name]
        return node.x, node.y

    def port_xy(self, name: str, side: str) -> tuple[float, float]:
        x, y = self.pos(name)
        px, py = self.to_screen(x + (NODE_W if side == "out" else 0), y + NODE_H / 2)
        return px, py

    def _font(self, size: float, bold: bool = False):
        # pixels (negative size), so text scales with the boxes: zoom x ui scale
        px = -max(1, round(size * 96 / 72 * self.scale))
        return (FONT, px, "bold") if bold else (FONT, px)

    # -- observers --------------------------------------------------------
    def _on_doc(self, event: DocEvent, data: dict) -> None:
        if event in ("node_added", "node_changed", "node_moved"):
            self.canvas.delete("hint")
            self.draw_node(data["name"])
            self.draw_edges_of(data["name"])
        elif event == "node_removed":
            self.canvas.delete(f"n:{data['name']}")
            self.draw_hint()
        elif event == "node_renamed":
            self.canvas.delete(f"n:{data['old']}")
            self.redraw_edges()
            self.draw_node(data["new"])
        elif event in ("edge_added", "edge_removed"):
            up, down = data["edge"]
            if event == "edge_removed":
                self.canvas.delete(self.edge_tag(up, down))
                if self.selected_edge == (up, down):
                    self.selected_edge = None
            # a pipe makes its downstream node a non-input node (or, removed, an
            # input node again): redraw both ends for the header colour
            for name in (up, down):
                self.draw_node(name)
                self.draw_edges_of(name)
            return
        elif event in ("selection_changed", "resources_changed", "inputs_changed"):
            for name in self.doc.nodes:
                self.draw_node(name)
        if event in ("node_added", "node_moved", "node_removed", "node_renamed"):
            self.view_changed()

    def _on_run(self, event: RunStateEvent, data: dict) -> None:
        if event in ("stats", "error", "state"):
            self.update_run_items()

    def _run_look(self, name: str) -> tuple[int, str, str]:
        """(error count: a badge change needs a redraw, fill colour, counters text)."""
        state = self.run_state.node_state(name) if self.run_state.state != "idle" else "idle"
        stats = self.run_state.pipers.get(name)
        errors = (stats or {}).get("errors", 0) or (1 if name in self.run_state.errors else 0)
        text = (f"in {stats.get('in', 0)}  out {stats.get('out', 0)}  {state}"
                if stats is not None else "")
        return errors, STATE_FILL.get(state, "#ffffff"), text

    def update_run_items(self) -> None:
        """Show the run state: recolour nodes, change counters and queue labels in
        place; redraw a node only when its error badge changes.

        Why in place: while engine threads run Python code each Tcl call may wait
        a GIL switch interval, and a full redraw is ~12 calls per node
        (benchmarks/gui.md)."""
        c = self.canvas
        for name in self.doc.nodes:
            look = self._run_look(name)
            drawn = self._drawn_run.get(name)
            if drawn is None or drawn[0] != look[0]:
                self.draw_node(name)
                continue
            if drawn[1] != look[1]:
                c.itemconfigure(f"n:{name}&&body&&!header", fill=look[1])
            if drawn[2] != look[2]:
                c.itemconfigure(f"n:{name}&&counters", text=look[2])
            self._drawn_run[name] = look
        for a, b in self.doc.edges:
            waiting = self.run_state.queued.get((a, b), 0)
            old = self._drawn_wait.get((a, b), 0)
            if waiting != old:
                if waiting and old:
                    c.itemconfigure(f"{self.edge_tag(a, b)}&&queue", text=f"{waiting} waiting")
                    self._drawn_wait[(a, b)] = waiting
                else:
                    self.draw_edge(a, b)

    # -- drawing ----------------------------------------------------------
    def redraw(self) -> None:
        self.canvas.delete("node", "edge")
        for name in self.doc.nodes:
            self.draw_node(name)
        self.redraw_edges()
        self.draw_hint()
        self.view_changed()

    def view_changed(self) -> None:
        for fn in self.on_view_changed:
            fn()

    def draw_hint(self) -> None:
        """A grey hint in the middle of an empty canvas."""
        c = self.canvas
        c.delete("hint")
        if self.doc.nodes:
            return
        w, h = max(c.winfo_width(), 200), max(c.winfo_height(), 150)
        c.create_text(w / 2, h / 2, text="Drag nodes here from the palette\n"
                      "or double click for a quick search", justify="center",
                      fill="#9aa5b1", font=(FONT, -round(13 * self.ui)), tags=("hint",))

    def redraw_edges(self) -> None:
        self.canvas.delete("edge")
        for a, b in self.doc.edges:
            self.draw_edge(a, b)

    def draw_edges_of(self, name: str) -> None:
        for a, b in self.doc.edges:
            if name in (a, b):
                self.draw_edge(a, b)

    @staticmethod
    def edge_tag(a: str, b: str) -> str:
        return f"e:{a}:{b}"

    def draw_edge(self, a: str, b: str) -> None:
        c, tag = self.canvas, self.edge_tag(a, b)
        c.delete(tag)
        if a not in self.doc.nodes or b not in self.doc.nodes:
            return
        x1, y1 = self.port_xy(a, "out")
        x2, y2 = self.port_xy(b, "in")
        dx = max(40 * self.scale, abs(x2 - x1) / 2)
        selected = self.selected_edge == (a, b)
        c.create_line(x1, y1, x1 + dx, y1, x2 - dx, y2, x2 - PORT_R * self.scale, y2,
                      smooth=True, width=3 if selected else 2, arrow=tk.LAST,
                      arrowshape=(10, 12, 4), fill=EDGE_SELECTED if selected else EDGE,
                      tags=("edge", tag, "line"))
        waiting = self.run_state.queued.get((a, b), 0)
        self._drawn_wait[(a, b)] = waiting
        if waiting:
            mx, my = (x1 + x2) / 2, (y1 + y2) / 2
            c.create_text(mx, my - 9 * self.scale, text=f"{waiting} waiting",
                          font=self._font(8), fill="#5a6470", tags=("edge", tag, "queue"))
        c.tag_lower("edge")

    def draw_node(self, name: str) -> None:
        c, tag = self.canvas, f"n:{name}"
        c.delete(tag)
        node = self.doc.nodes.get(name)
        if node is None:
            return
        s = self.scale
        x, y = self.to_screen(*self.pos(name))
        w, h = NODE_W * s, NODE_H * s
        tags = ("node", tag)
        selected = name in self.doc.selection
        look = self._drawn_run[name] = self._run_look(name)
        is_input = name in self.doc.input_nodes()
        c.create_rectangle(x + 3, y + 3, x + w + 3, y + h + 3, fill="#d5dae0", outline="",
                           tags=tags + ("shadow",))
        c.create_rectangle(x, y, x + w, y + h, fill=look[1],
                           outline=SELECT if selected else "#9aa5b1",
                           width=3 if selected else 1, tags=tags + ("body",))
        c.create_rectangle(x, y, x + w, y + 20 * s, fill=HEADER_INPUT if is_input else HEADER,
                           outline="", tags=tags + ("body", "header"))
        c.create_text(x + 8 * s, y + 10 * s, text=name, anchor="w", fill="white",
                      font=self._font(10, True), tags=tags + ("title",))
        func = " → ".join(f.name for f in node.functions)
        c.create_text(x + 8 * s, y + 31 * s, text=f"ƒ {func}", anchor="w", fill="#1d2935",
                      font=self._font(9), tags=tags + ("func",))
        par = node.option("parallel")
        sub = f"⇶ {par}" if par else "serial"
        if is_input and name in self.doc.inputs:
            sub += f"  ◂ {self.doc.inputs[name][:18]}"
        c.create_text(x + 8 * s, y + 47 * s, text=sub, anchor="w", fill="#5a6470",
                      font=self._font(8), tags=tags + ("resource",))
        # always there (empty when idle) so that a run only changes its text
        c.create_text(x + 8 * s, y + 60 * s, text=look[2], anchor="w", fill="#1d2935",
                      font=self._font(8), tags=tags + ("counters",))
        r = PORT_R * s
        cy = y + h / 2
        c.create_oval(x - r, cy - r, x + r, cy + r, fill=PORT_IN, outline="white", width=2,
                      tags=tags + ("port_in",))
        c.create_polygon(x + w - r * 0.4, cy - r * 1.2, x + w + r * 1.3, cy,
                         x + w - r * 0.4, cy + r * 1.2, fill=PORT_OUT, outline="white",
                         width=2, tags=tags + ("port_out",))
        if look[0]:
            self._draw_badge(name, x + w - 4 * s, y - 4 * s, look[0])

    def _draw_badge(self, name: str, bx: float, by: float, errors: int) -> None:
        """The red error count at (bx, by): a circle for 1-2 digits, a pill that
        fits its text beyond (capped at ``999+``)."""
        c, s, tags = self.canvas, self.scale, ("node", f"n:{name}", "badge")
        text = badge_text(errors)
        r = 11 * s
        if len(text) <= 2:
            c.create_oval(bx - r, by - r, bx + r, by + r, fill="#d93030", outline="white",
                          width=2, tags=tags + ("badge_shape",))
        else:  # wide enough for its text: ~7 px per bold 8 pt digit at 96 dpi
            half = (len(text) * 3.6 + 6) * s
            c.create_polygon(_pill(bx - half, by - r, bx + half, by + r), smooth=True,
                             fill="#d93030", outline="white", width=2,
                             tags=tags + ("badge_shape",))
        c.create_text(bx, by, text=text, fill="white", font=self._font(8, True),
                      tags=tags + ("badge_text",))

    def clamp(self, px: float, py: float, margin: float = 8) -> tuple[float, float]:
        """Canvas pixel (px, py) moved so that a node centred there is fully visible."""
        hw, hh = NODE_W * self.scale / 2 + margin, NODE_H * self.scale / 2 + margin
        w, h = self.canvas.winfo_width(), self.canvas.winfo_height()
        return (min(max(px, hw), max(hw, w - hw)), min(max(py, hh), max(hh, h - hh)))

    # -- zoom, pan, fit -------------------------------------------------------
    def zoom(self, factor: float, px: float | None = None, py: float | None = None) -> None:
        new = min(3.0 * self.ui, max(0.25 * self.ui, self.scale * factor))
        if px is None:
            px, py = self.canvas.winfo_width() / 2, self.canvas.winfo_height() / 2
        self.ox = px - (px - self.ox) * new / self.scale
        self.oy = py - (py - self.oy) * new / self.scale
        self.scale = new
        self.redraw()

    def pan(self, dx: float, dy: float) -> None:
        self.ox += dx
        self.oy += dy
        self.canvas.move("node", dx, dy)
        self.canvas.move("edge", dx, dy)
        self.view_changed()

    def _on_configure(self, event) -> None:
        self.draw_hint()
        self.view_changed()
        if self._fit_pending and event.width > 1:
            self._fit_pending = False
            self.fit()

    def fit(self, margin: float = 30) -> None:
        if self.canvas.winfo_width() <= 1:
            # not laid out yet (a file opened from the command line): fitting to
            # a 1-pixel canvas would shrink the drawing; fit once it has a size
            self._fit_pending = True
            return
        if not self.doc.nodes:
            self.scale, self.ox, self.oy = self.ui, 20.0, 20.0
            self.redraw()
            return
        xs = [n.x for n in self.doc.nodes.values()]
        ys = [n.y for n in self.doc.nodes.values()]
        x0, y0, x1, y1 = min(xs), min(ys), max(xs) + NODE_W, max(ys) + NODE_H
        cw = max(self.canvas.winfo_width(), 200)
        ch = max(self.canvas.winfo_height(), 150)
        scale = min((cw - 2 * margin) / max(1, x1 - x0), (ch - 2 * margin) / max(1, y1 - y0))
        self.scale = min(1.2 * self.ui, max(0.25 * self.ui, scale))
        self.ox = (cw - (x1 - x0) * self.scale) / 2 - x0 * self.scale
        self.oy = (ch - (y1 - y0) * self.scale) / 2 - y0 * self.scale
        self.redraw()

    # -- hit testing ------------------------------------------------------------
    def hit(self, px: float, py: float) -> tuple[str, str | tuple[str, str] | None]:
        """What is under canvas pixel (px, py): ("port_out"|"port_in"|"node", name),
        ("edge", (a, b)) or ("background", None)."""
        items = self.canvas.find_overlapping(px - 3, py - 3, px + 3, py + 3)
        for item in reversed(items):
            tags = self.canvas.gettags(item)
            names = [t[2:] for t in tags if t.startswith("n:")]
            if names:
                part = "port_out" if "port_out" in tags else "port_in" if "port_in" in tags \
                    else "badge" if "badge" in tags else "node"
                return part, names[0]
            edges = [t for t in tags if t.startswith("e:")]
            if edges:
                _, a, b = edges[0].split(":")
                return "edge", (a, b)
        return "background", None

    def select_edge(self, edge: tuple[str, str] | None) -> None:
        old, self.selected_edge = self.selected_edge, edge
        for e in (old, edge):
            if e is not None and e in self.doc.edges:
                self.draw_edge(*e)
