"""Node actions the views ask for: add from the palette or the console, rename,
select, auto-layout, and the canvas tooltips on ports and error badges.

A node added from a palette drop, the quick-add or the console lands fully in
view (``CanvasView.clamp``). A console function brings along what it takes
from the console (its imports, helpers, constants: ``App.take_console_names``),
so the saved script runs headless as it ran in the editor.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .model.errors import EditError
from papy_engine.script import FuncRef
from .views.canvas_view import NODE_H, NODE_W

if TYPE_CHECKING:
    from .app import App


class NodeCommands:
    def __init__(self, app: "App") -> None:
        self.app = app

    def drop_type(self, ntype, x_root: int | None, y_root: int | None) -> str | None:
        """A palette entry dropped at screen (x_root, y_root), or added at the centre."""
        app, c = self.app, self.app.canvas
        if x_root is None or y_root is None:
            px, py = c.winfo_width() / 2, c.winfo_height() / 2
            px += 24 * (len(app.doc.nodes) % 5)
            py += 18 * (len(app.doc.nodes) % 5)
        else:
            px, py = x_root - c.winfo_rootx(), y_root - c.winfo_rooty()
            if not (0 <= px <= c.winfo_width() and 0 <= py <= c.winfo_height()):
                return None
        new = app.canvas_ctl.add_type_at(ntype, px, py)
        if new is not None:
            app.message(f"added node {new}", False)
        return new

    def add_function(self, name: str, source: str, x_root: int | None = None,
                     y_root: int | None = None) -> str | None:
        """A console function as a node: dropped at screen (x_root, y_root), or centred."""
        app, c = self.app, self.app.canvas
        px, py = c.winfo_width() / 2, c.winfo_height() / 2
        if x_root is not None and y_root is not None:
            px, py = x_root - c.winfo_rootx(), y_root - c.winfo_rooty()
            if not (0 <= px <= c.winfo_width() and 0 <= py <= c.winfo_height()):
                return None  # dropped somewhere else
        x, y = app.canvas_view.to_world(*app.canvas_view.clamp(px, py))
        doc = app.doc
        try:
            new = doc.add_node(FuncRef(name, None, name, source), name=doc.unique_name(name),
                               x=round(x - NODE_W / 2), y=round(y - NODE_H / 2))
        except EditError as exc:
            app.message(str(exc), True)
            return None
        doc.select([new])
        names = app.take_console_names()  # its imports, helpers, constants
        app.message(f"added node {new} from the console" + (f"; {names}" if names else ""),
                    "cannot save" in names)
        return new

    def rename(self, name: str) -> None:
        """Select ``name`` and put the cursor in the property panel's Name field."""
        app = self.app
        self.select(name)
        form = app.props.node_form
        entry = form.widgets.get("name") if form is not None else None
        if entry is not None:
            entry.focus_set()
            entry.select_range(0, "end")
            app.message(f"type the new name of {name}, then Return", False)

    def select(self, name: str) -> None:
        if name in self.app.doc.nodes:
            self.app.doc.select([name])

    def auto_layout(self) -> None:
        if self.app.canvas_ctl.attempt(self.app.doc.auto_layout):
            self.app.canvas_view.fit()

    def add_tips(self) -> None:
        """Tooltips on the ports and error badges of the canvas (toolbar: menus.py)."""
        tips, canvas = self.app.tips, self.app.canvas
        tips.add_canvas(canvas, "port_in", lambda tags: "input port: drop a pipe here "
                        "from another node's output ▸")
        tips.add_canvas(canvas, "port_out", lambda tags: "output port: drag to another "
                        "node's input ● to connect, or onto empty canvas to add one")
        tips.add_canvas(canvas, "badge", self.badge_tip)

    def badge_tip(self, tags: tuple[str, ...]) -> str:
        """The tooltip of the error badge of the node named in ``tags``."""
        name = next((t[2:] for t in tags if t.startswith("n:")), "")
        errors = self.app.run_state.pipers.get(name, {}).get("errors", 0)
        return (f"{errors} item(s) of {name} became errors (placeholders); click for the "
                "first one's traceback and item index")
