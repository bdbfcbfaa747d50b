"""The ``papy`` command line: one module per command.

* ``papy run`` (:mod:`.run`) -- run a saved pipeline headless, with progress
  (:mod:`.progress`); saved scripts call :func:`run_script_main` the same way;
* ``papy graph`` (:mod:`.graph`) -- the pipeline's graph as DOT or an image;
* ``papy gui`` (:mod:`.gui`) -- the desktop editor;
* ``papy worker`` (:mod:`.worker`) -- a remote worker server;
* ``papy plugins`` (:mod:`.plugins`) -- the node plugins found, and failures.

A command module has ``HELP`` (its line in ``papy --help``) and
``main(argv) -> int``; to add a command, write one and list it in
:data:`COMMANDS`.  Commands import what only they need inside ``main``, so
that ``papy`` and saved scripts start fast.  Exit statuses are in
:mod:`.status`.  Only the commands (and the editor) configure logging.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Protocol

from .. import __version__
from . import graph, gui, plugins, run, worker
from .graph import to_dot
from .run import parse_workers, run_plumber, run_script_main
from .status import EXIT_INTERRUPTED, EXIT_USAGE, UsageError

__all__ = ["main", "run_script_main", "run_plumber", "parse_workers", "to_dot", "COMMANDS",
           "Command"]



class Command(Protocol):
    """What a command module provides."""

    HELP: str

    def main(self, argv: Sequence[str]) -> int: ...


#: ``papy NAME ...`` calls ``COMMANDS[NAME].main([...])``, in ``papy --help`` order.
COMMANDS: dict[str, Command] = {
    "run": run, "graph": graph, "plugins": plugins, "gui": gui, "worker": worker,
}

MAIN_EXAMPLES = """\
examples:
  papy run examples/where.py          run a saved pipeline headless
  papy graph examples/where.py        print its graph as Graphviz DOT
  papy gui examples/where.py          open it in the editor
  papy worker --port 18812            serve remote workers
  papy plugins                        list node plugins

'papy COMMAND --help' shows each command's options.
"""


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser: ``--version``, ``--help`` and the list of commands."""
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="papy", formatter_class=fmt, epilog=MAIN_EXAMPLES,
        description="PaPy: parallel pipelines in Python.")
    parser.add_argument("--version", action="version", version=f"papy {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in COMMANDS.items():
        sub.add_parser(name, help=command.HELP, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``papy`` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        try:
            return COMMANDS[argv[0]].main(argv[1:])
        except UsageError as exc:
            print(f"papy: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:
            print("papy: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    build_parser().print_help(sys.stderr)  # no command
    return EXIT_USAGE
