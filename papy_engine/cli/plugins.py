"""``papy plugins``: list the node plugins PaPy finds, and those that failed.

Text (:func:`papy_engine.plugin.plugins_report`) or JSON
(:meth:`papy_engine.plugin.Registry.to_dict`) on stdout.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

__all__ = ["main", "HELP"]

HELP = "list and inspect node plugins"


def main(argv: Sequence[str] | None = None) -> int:
    """``papy plugins``: print the discovered plugins; returns the exit code.

    Exit code 0, or 1 with ``--strict`` when a plugin failed; 2 for bad options.
    """
    # importlib.metadata & co: see the cli package docstring
    from ..plugin.discovery import ENTRY_POINT_GROUP, PATH_VARIABLE, discover, plugins_report
    parser = argparse.ArgumentParser(
        prog="papy plugins",
        description="List the node plugins PaPy finds (bundled, entry points of group "
                    f"'{ENTRY_POINT_GROUP}', and folders in ${PATH_VARIABLE}) and those "
                    "that failed to load, with the reason.")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show import paths, parameters, hints and tracebacks")
    parser.add_argument("--category", help="list only the nodes of this category")
    parser.add_argument("--path", action="append", default=None, metavar="DIR",
                        help=f"a plugin folder to scan instead of ${PATH_VARIABLE} "
                             "(repeatable)")
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 1 when any plugin failed to load")
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # --help or a usage error: return, don't exit
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    registry = discover(refresh=True, paths=args.path)
    if args.json:
        data = registry.to_dict()
        if args.category is not None:
            data["nodes"] = [n for n in data["nodes"] if n["category"] == args.category]
        if args.verbose:
            for f, d in zip(registry.failures, data["failures"]):
                d["details"] = f.details
        print(json.dumps(data, indent=2))
    else:
        sys.stdout.write(plugins_report(registry, verbose=args.verbose, category=args.category))
    return 1 if args.strict and registry.failures else 0
