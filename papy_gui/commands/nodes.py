"""Node actions the views ask for: a console function as a node, rename, select.

A node added from the console lands fully in view (``CanvasView.clamp``) and
brings along what it takes from the console (its imports, helpers,
constants: :func:`~papy_gui.model.export.take_console_names`), so the saved
script runs headless as it ran in the editor. (Palette drops and quick-add
are the canvas's own: :mod:`papy_gui.views.canvas_interact`.)
"""
from __future__ import annotations

from papy_engine.script import FuncRef

from ..model.errors import EditError
from ..model.export import take_console_names
from .window import Window


class NodeCommands:
    def __init__(self, app: Window) -> None:
        self.app = app

    def add_function(self, name: str, source: str, x_root: int | None = None,
                     y_root: int | None = None) -> str | None:
        """Console function ``name`` (``source``) as a node: dropped at screen
        (x_root, y_root), or centred; None if dropped outside the canvas."""
        app, ctl = self.app, self.app.canvas_ctl
        point = ctl.centre() if x_root is None or y_root is None \
            else ctl.canvas_point(x_root, y_root)
        if point is None:
            return None  # dropped somewhere else
        x, y = ctl.node_origin(*point)
        doc = app.doc
        try:
            new = doc.add_node(FuncRef(name, None, name, source), name=doc.unique_name(name),
                               x=x, y=y)
        except EditError as exc:
            app.message(str(exc), True)
            return None
        doc.select([new])
        names = take_console_names(doc, app.namespace)  # its imports, helpers, constants
        app.message(f"added node {new} from the console" + (f"; {names}" if names else ""),
                    "cannot save" in names)
        return new

    def rename(self, name: str) -> None:
        """Select ``name`` and put the cursor in the property panel's Name field."""
        self.select(name)
        if self.app.props.focus_field("name"):
            self.app.message(f"type the new name of {name}, then Return", False)

    def select(self, name: str) -> None:
        if name in self.app.doc.nodes:
            self.app.doc.select([name])


def register(app: Window) -> NodeCommands:
    """Node actions have no menu entries (they are on the canvas's right-click menu)."""
    return NodeCommands(app)
