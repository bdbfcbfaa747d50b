"""``papy gui``: open the editor window, run its event loop, exit.

:func:`open_app` parses the command line and opens the window without its
loop (tests drive it); :func:`main` runs the loop.  A window closed over a
run that would not stop (see :meth:`App.close`) leaves by ``os._exit``: a
node function stuck in one of this process's threads cannot be joined.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import tkinter as tk

from .app import App
from .views.dialogs import Dialogs

__all__ = ["open_app", "main"]


def open_app(argv: list[str] | None = None, dialogs: Dialogs | None = None) -> App | int:
    """Parse ``papy gui`` arguments and open the window (without its mainloop).

    Returns the App, or an exit code if it could not open. With ``--run`` a
    run starts as soon as the file is open (from the event loop, so the
    window shows first). ``dialogs`` replaces Tk's dialogs (tests).
    """
    parser = argparse.ArgumentParser(prog="papy gui", description="PaPy Studio desktop editor")
    parser.add_argument("script", nargs="?", help="a saved pipeline script to open")
    parser.add_argument("--run", action="store_true", help="start a run once the file is open")
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    try:
        root = tk.Tk(className="PaPyStudio")
    except tk.TclError as exc:
        print(f"papy gui: cannot open a window: {exc}", file=sys.stderr)
        return 2
    app = App(root, dialogs=dialogs)
    if args.script and not app.files.open(args.script):
        app.close(ask=False)
        return 1
    if args.run:
        app.soon(200, app.runs.run)
    if not args.script:  # an untitled pipeline left by a crash is offered back
        app.soon(100, app.files.offer_untitled_recovery)
    return app


def main(argv: list[str] | None = None) -> int:
    """``papy gui [SCRIPT] [--run]``: open the editor; returns the exit code."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = open_app(argv)
    if isinstance(app, int):
        return app
    app.root.mainloop()
    if app.bridge.abandoned:   # a node function may still be stuck in one of our threads
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
