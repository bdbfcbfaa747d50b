"""``papy graph SCRIPT``: the pipeline's graph as Graphviz DOT, or drawn by ``dot``.

The script is read statically (:func:`papy_engine.script.read`): none of its
code runs.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import PapyError
from ..log import start_logger
from .status import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, UsageError

if TYPE_CHECKING:
    from ..script import PipelineDescription

__all__ = ["main", "to_dot", "HELP"]

HELP = "print or draw a pipeline's graph"

GRAPH_EXAMPLES = """\
examples:
  papy graph examples/wordfreq.py > wordfreq.dot
  papy graph examples/wordfreq.py -o wordfreq.svg
  papy graph examples/fasta_stats.py --format png -o fasta.png

The script is read statically: none of its code runs.  png/svg/pdf need
Graphviz's 'dot' program.
"""

_COLORS = ["#dbe9f6", "#fde2c8", "#d9f0d3", "#eadcf2", "#fbe3e8", "#fff5c2"]


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(desc: PipelineDescription, title: str = "pipeline") -> str:
    """Graphviz DOT text for a :class:`~papy_engine.script.PipelineDescription`.

    Parallel pipers are filled with one colour per IMap; inputs are ovals.
    """
    colors = {r.name: _COLORS[i % len(_COLORS)] for i, r in enumerate(desc.resources)}
    has_parent = {down for _, down in desc.edges}
    lines = [f"digraph {_quote(title)} {{", "  rankdir=TB;",
             '  node [shape=box, style="rounded,filled", fillcolor="white", '
             'fontname="Helvetica"];']
    for node in desc.nodes:
        funcs = ", ".join(f.name for f in node.functions)
        label = node.name if funcs == node.name else f"{node.name}\n{funcs}"
        attrs = [f"label={_quote(label)}"]
        res = node.options.get("parallel")
        if res is not None:
            attrs.append(f'fillcolor="{colors.get(res, "#eeeeee")}"')
            attrs.append(f"tooltip={_quote('parallel: ' + res)}")
        if node.name not in has_parent:
            attrs.append("shape=oval")
        lines.append(f"  {_quote(node.name)} [{', '.join(attrs)}];")
    for up, down in desc.edges:
        lines.append(f"  {_quote(up)} -> {_quote(down)};")
    if desc.resources:
        legend = "\\l".join(f"{r.name}: " + ", ".join(f"{k}={v}" for k, v in r.options.items())
                            for r in desc.resources) + "\\l"
        lines.append(f'  legend [shape=note, label="{legend}", fillcolor="#f7f7f7"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="papy graph", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Print the pipeline graph of SCRIPT as Graphviz DOT, or render it to an "
                    "image.", epilog=GRAPH_EXAMPLES)
    parser.add_argument("script", metavar="SCRIPT")
    parser.add_argument("--format", "-T", choices=["dot", "png", "svg", "pdf"],
                        help="output format (default: from -o's extension, else dot)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    return parser


def main(argv: Sequence[str]) -> int:
    """``papy graph``: returns the exit status.

    Raises:
        UsageError: an image format without ``-o FILE``.
    """
    from ..script import read, write_text  # see the cli package docstring
    try:
        args = build_parser().parse_args(list(argv))
    except SystemExit as exc:  # --help, or a usage error (already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    # A handler is always installed (see run.setup_logging); nothing is shown.
    start_logger("CRITICAL")
    fmt = args.format
    if fmt is None:
        ext = os.path.splitext(args.output or "")[1].lstrip(".").lower()
        fmt = ext if ext in ("png", "svg", "pdf") else "dot"
    try:
        desc = read(args.script)
    except PapyError as exc:
        print(f"papy graph: {exc}", file=sys.stderr)
        return EXIT_USAGE
    dot = to_dot(desc, os.path.splitext(os.path.basename(args.script))[0])
    if fmt == "dot":
        if args.output:
            write_text(args.output, dot)
        else:
            sys.stdout.write(dot)
        return EXIT_OK
    if not args.output:
        raise UsageError(f"--format {fmt} needs -o FILE (images are not written to a terminal)")
    return _render(dot, fmt, args.output, args.script)


def _render(dot: str, fmt: str, output: str, script: str) -> int:
    """Draw ``dot`` into ``output`` with Graphviz's ``dot`` program."""
    exe = shutil.which("dot")
    if exe is None:
        print("papy graph: Graphviz is not installed (the 'dot' program was not found).\n"
              "  Install it: Debian/Ubuntu 'sudo apt install graphviz', Fedora 'sudo dnf install "
              "graphviz',\n  macOS 'brew install graphviz', conda 'conda install graphviz', or "
              "see https://graphviz.org/download/.\n"
              f"  Or write DOT and render it elsewhere: papy graph {script} > graph.dot",
              file=sys.stderr)
        return EXIT_USAGE
    proc = subprocess.run([exe, f"-T{fmt}", "-o", output], input=dot.encode(),
                          capture_output=True, timeout=60)
    if proc.returncode != 0:
        print(f"papy graph: dot failed: {proc.stderr.decode(errors='replace').strip()}",
              file=sys.stderr)
        return EXIT_ERRORS
    return EXIT_OK
