"""Many Treeview rows in one Tcl call.

Mid-run, every Tcl call made from the Tk thread may wait a GIL switch interval
to get the interpreter lock back (benchmarks/gui.md), so inserting 50 rows one
``insert`` at a time could hold the window for tens of milliseconds. A small
Tcl procedure, defined once per interpreter, inserts a whole list of rows;
tkinter turns the Python tuples into Tcl lists, so nothing is quoted by hand.
"""
from __future__ import annotations

import tkinter as tk
from tkinter import ttk

_PROC = r"""
proc ::papy_insert_rows {tree rows} {
    foreach row $rows {
        lassign $row parent index iid text values tags child
        $tree insert $parent $index -id $iid -text $text -values $values -tags $tags
        if {$child ne ""} {
            $tree insert $iid end -id $child -text …
        }
    }
}
"""

#: (parent, index, iid, text, values, tags, child): ``index`` is a position or
#: "end"; ``child``, if not "", is the iid of an empty first child "…" (a
#: placeholder that makes the row show its open arrow, replaced when opened).
Row = tuple[str, "int | str", str, str, tuple, tuple, str]


def insert_rows(tree: ttk.Treeview, rows: list[Row]) -> None:
    """Insert ``rows`` into ``tree`` in order, in one Tcl call."""
    if not rows:
        return
    root: tk.Misc = tree._root()
    if not getattr(root, "_papy_insert_rows", False):
        root.tk.eval(_PROC)
        root._papy_insert_rows = True  # type: ignore[attr-defined]
    tree.tk.call("::papy_insert_rows", str(tree), tuple(rows))
