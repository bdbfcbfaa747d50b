"""The ``papy`` command line: run scripts headless, draw their graph, and dispatch.

``papy run SCRIPT`` and ``python SCRIPT.py`` (whose ``__main__`` block calls
:func:`run_script_main`) share :func:`run_plumber`: load, apply the options,
run with a progress display on stderr, print a summary, return an exit code:

* 0 -- every item finished without a placeholder;
* 1 -- some items became placeholders (or the engine failed);
* 2 -- usage, load or setup errors;
* 130 -- stopped by Ctrl-C (the pulled items were all accounted for).

Only this module (and the GUI entry point) configures logging.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from . import __version__
from .errors import PapyError, is_placeholder
from .log import start_logger

__all__ = ["main", "run_script_main", "run_plumber", "parse_workers", "to_dot"]

log = logging.getLogger(__name__)

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

# Subcommands implemented elsewhere: name -> (module, function, what).
DELEGATES = {
    "plugins": ("papy_engine.plugin", "plugins_main", "list and inspect node plugins"),
    "gui": ("papy_gui.app", "main", "open the desktop editor [SCRIPT]"),
    "worker": ("papy_engine.remote", "worker_main", "serve remote workers over RPyC"),
}

RUN_EXAMPLES = """\
examples:
  papy run examples/wordfreq.py
  papy run examples/montecarlo.py --stride 64 --quiet
  papy run pipeline.py --log run.log --log-level DEBUG
  papy run pipeline.py --workers node1:18812#4,node2:18812#4
  python pipeline.py --quiet          (a saved script runs itself the same way)

exit status: 0 all items clean, 1 some items became placeholders (the summary
names the pipers and their first error), 2 usage or load error, 130 stopped
by Ctrl-C (a first Ctrl-C stops gracefully; a second one aborts).
"""

GRAPH_EXAMPLES = """\
examples:
  papy graph examples/wordfreq.py > wordfreq.dot
  papy graph examples/wordfreq.py -o wordfreq.svg
  papy graph examples/fasta_stats.py --format png -o fasta.png

The script is read statically: none of its code runs.  png/svg/pdf need
Graphviz's 'dot' program.
"""

MAIN_EXAMPLES = """\
examples:
  papy run examples/where.py          run a saved pipeline headless
  papy graph examples/where.py        print its graph as Graphviz DOT
  papy gui examples/where.py          open it in the editor
  papy worker --port 18812            serve remote workers
  papy plugins                        list node plugins

'papy COMMAND --help' shows each command's options.
"""


class _Usage(Exception):
    """A user mistake: printed without a traceback, exit status 2."""


def parse_workers(text: str) -> list[tuple[str, int]]:
    """Parse ``HOST:PORT#N,...`` into ``[("host:port", n), ...]`` (IMap.worker_remote).

    Raises:
        ValueError: with a message naming the bad entry and the expected form.
    """
    out = []
    for entry in text.split(","):
        entry = entry.strip()
        form = f"expected HOST:PORT#N, e.g. 192.168.1.5:18812#4 (got {entry!r})"
        hostport, sep, n = entry.rpartition("#")
        if not sep or not hostport:
            raise ValueError(f"missing '#N' worker count: {form}")
        host, sep, port = hostport.rpartition(":")
        if not sep or not host or host in ("[]",):
            raise ValueError(f"missing HOST:PORT: {form}")
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError(f"port must be 1..65535: {form}")
        if not n.isdigit() or int(n) < 1:
            raise ValueError(f"N must be a whole number >= 1: {form}")
        out.append((f"{host}:{int(port)}", int(n)))
    return out


def _workers_arg(text: str) -> list[tuple[str, int]]:
    try:
        return parse_workers(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1 (got {text!r})")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds > 0 (got {text!r})")
    return value


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options shared by ``papy run`` and ``python SCRIPT.py``."""
    parser.add_argument("--workers", type=_workers_arg, metavar="HOST:PORT#N,...",
                        help="add N remote workers on each RPyC server to every parallel IMap")
    parser.add_argument("--log", metavar="FILE", help="write the engine log to FILE")
    parser.add_argument("--log-level", metavar="LEVEL", type=str.upper,
                        choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
                        help="DEBUG, INFO, WARNING, ERROR or CRITICAL (default: INFO with "
                             "--log, else engine messages are not shown)")
    parser.add_argument("--stride", type=_positive, metavar="N",
                        help="items pulled and interleaved at a time by every IMap")
    parser.add_argument("--quiet", "-q", action="store_true",
                        help="no progress display; only a brief summary")
    parser.add_argument("--interval", type=_seconds, default=2.0, metavar="SECONDS",
                        help="seconds between progress lines when stderr is not a terminal "
                             "(default 2)")


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="papy", formatter_class=fmt, epilog=MAIN_EXAMPLES,
        description="PaPy: parallel pipelines in Python.")
    parser.add_argument("--version", action="version", version=f"papy {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", help="run a pipeline script headless", formatter_class=fmt,
                         description="Run a pipeline script headless with a progress display "
                                     "and a per-piper summary.", epilog=RUN_EXAMPLES)
    run.add_argument("script", metavar="SCRIPT", help="a saved pipeline (.py)")
    add_run_options(run)
    run.set_defaults(func=_cmd_run)
    graph = sub.add_parser("graph", help="print or draw a pipeline's graph", formatter_class=fmt,
                           description="Print the pipeline graph of SCRIPT as Graphviz DOT, or "
                                       "render it to an image.", epilog=GRAPH_EXAMPLES)
    graph.add_argument("script", metavar="SCRIPT")
    graph.add_argument("--format", "-T", choices=["dot", "png", "svg", "pdf"],
                       help="output format (default: from -o's extension, else dot)")
    graph.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    graph.set_defaults(func=_cmd_graph)
    for name, (_, _, what) in DELEGATES.items():
        sub.add_parser(name, help=what, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``papy`` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DELEGATES:
        return _delegate(argv[0], argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.func(args)
    except _Usage as exc:
        print(f"papy: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("papy: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _delegate(name: str, argv: list[str]) -> int:
    module, func, _ = DELEGATES[name]
    try:
        mod = importlib.import_module(module)
        entry = getattr(mod, func)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            print(f"papy {name}: not available yet in this version ({module} is missing)",
                  file=sys.stderr)
            return EXIT_USAGE
        raise
    except AttributeError:
        print(f"papy {name}: not available yet in this version ({module}.{func} is missing)",
              file=sys.stderr)
        return EXIT_USAGE
    return int(entry(argv) or 0)


# -- run ---------------------------------------------------------------------------
def _setup_logging(args) -> None:
    if args.log:
        start_logger(args.log_level or "INFO", filename=args.log)
    else:
        # A handler is always installed: without one, Python's last-resort
        # handler would print every placeholder's ERROR record over the display.
        start_logger(args.log_level or "CRITICAL")


def _cmd_run(args) -> int:
    from .script import load_namespace
    _setup_logging(args)
    try:
        plumber, ns = load_namespace(args.script)
    except PapyError as exc:
        print(f"papy run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return run_plumber(plumber, ns.get("INPUTS"), args, label=os.path.basename(args.script))


def run_script_main(pipeline: Callable[[], Any], inputs: Any,
                    argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """What a saved script's ``__main__`` block calls: behave like ``papy run SCRIPT``.

    Args:
        pipeline: the script's ``pipeline`` function.
        inputs: the script's ``INPUTS`` (a list of iterables, or a function returning it).
        argv: the command-line options (``sys.argv[1:]``).
        prog: the name shown in messages (default: the script's file name).
    """
    prog = prog or os.path.basename(sys.argv[0] or "pipeline")
    parser = argparse.ArgumentParser(
        prog=prog, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run this PaPy pipeline headless (like 'papy run').",
        epilog=RUN_EXAMPLES.replace("papy run pipeline.py", f"python {prog}"))
    add_run_options(parser)
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    _setup_logging(args)
    try:
        plumber = pipeline()
    except Exception as exc:
        print(f"{prog}: pipeline() failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return run_plumber(plumber, inputs, args, label=prog)


def _imaps(plumber) -> list:
    out: list = []
    for p in plumber.pipers:
        if p.parallel and all(p.parallel is not m for m in out):
            out.append(p.parallel)
    return out


def _apply_options(plumber, args) -> None:
    imaps = _imaps(plumber)
    if args.workers:
        if not imaps:
            print("papy: warning: the pipeline has no parallel pipers; --workers has no effect",
                  file=sys.stderr)
        for m in imaps:
            m.worker_remote = list(m.worker_remote or []) + list(args.workers)
    if args.stride:
        for m in imaps:
            m.stride = args.stride
        plumber.stride = args.stride


def run_plumber(plumber, inputs: Any, args: argparse.Namespace, label: str = "") -> int:
    """Run ``plumber`` on ``inputs`` with ``papy run`` options ``args``; returns the exit status.

    Progress goes to stderr (a live table on a terminal, plain lines otherwise),
    then the summary.  The first SIGINT stops gracefully; a second one aborts.
    """
    from .progress import Progress, summary
    try:
        _apply_options(plumber, args)
        if callable(inputs):
            inputs = inputs()
        if inputs is None:
            raise _Usage(f"{label or 'the script'} defines no INPUTS: set INPUTS = [iterable, ...]"
                         " with one iterable per input piper")
    except _Usage as exc:
        print(f"papy: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        print(f"papy: error: evaluating INPUTS failed: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return EXIT_USAGE
    err = sys.stderr
    progress = Progress(err, tty=err.isatty(), interval=args.interval, quiet=args.quiet,
                        label=label)
    first_errors: dict[str, dict] = {}
    lock = threading.Lock()

    def listener(event: dict) -> None:
        if event.get("event") == "error" and event.get("piper"):
            with lock:
                first_errors.setdefault(event["piper"], event)
    plumber.add_listener(listener)
    try:
        plumber.start(inputs)
    except PapyError as exc:
        print(f"papy: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    interrupts = []

    def on_sigint(signum, frame):
        interrupts.append(signum)
        if len(interrupts) == 1:
            progress.note("stopping: finishing the items in flight (Ctrl-C again to abort)")
            threading.Thread(target=_quiet_stop, args=(plumber,), daemon=True,
                             name="papy-cli-stop").start()
        else:
            raise KeyboardInterrupt
    in_main = threading.current_thread() is threading.main_thread()
    old = signal.signal(signal.SIGINT, on_sigint) if in_main else None
    failure: BaseException | None = None
    try:
        plumber.run()
        while True:
            try:
                if plumber.wait(timeout=0.1):
                    break
            except Exception as exc:  # debug=True errors and engine failures
                failure = exc
                break
            progress.update(plumber.stats)
    except KeyboardInterrupt:
        _abort(plumber)
    finally:
        if in_main:
            signal.signal(signal.SIGINT, old)
    stats = plumber.stats
    progress.close(stats)
    if failure is None and stats["state"] == "failed":
        failure = getattr(plumber, "error", None)  # an engine failure: wait() returned
    if failure is not None:
        detail = failure.traceback if is_placeholder(failure) and failure.traceback else ""
        print(f"papy: the pipeline failed: {type(failure).__name__}: {failure}\n{detail}",
              file=err, end="" if detail.endswith("\n") else "\n")
    err.write(summary(stats, first_errors, label, brief=args.quiet))
    err.flush()
    if failure is not None or stats["state"] == "failed":
        return EXIT_ERRORS
    if stats["state"] == "stopped":
        return EXIT_INTERRUPTED
    return EXIT_ERRORS if any(p["errors"] for p in stats["pipers"].values()) else EXIT_OK


def _quiet_stop(plumber) -> None:
    try:
        plumber.stop()
    except Exception:  # the failure is reported by wait() in the main loop
        log.debug("stop() raised", exc_info=True)


def _abort(plumber) -> None:
    """Second Ctrl-C: give up on the items in flight and leave now."""
    import multiprocessing
    print("\npapy: aborted; items in flight are lost", file=sys.stderr)
    for child in multiprocessing.active_children():
        child.terminate()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)


# -- graph -------------------------------------------------------------------------
def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


_COLORS = ["#dbe9f6", "#fde2c8", "#d9f0d3", "#eadcf2", "#fbe3e8", "#fff5c2"]


def to_dot(desc, title: str = "pipeline") -> str:
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


def _cmd_graph(args) -> int:
    from .script import read
    _setup_logging(argparse.Namespace(log=None, log_level=None))
    fmt = args.format
    if fmt is None:
        ext = os.path.splitext(args.output or "")[1].lstrip(".").lower()
        fmt = ext if ext in ("png", "svg", "pdf") else "dot"
    try:
        desc = read(args.script)
    except PapyError as exc:
        print(f"papy graph: {exc}", file=sys.stderr)
        return EXIT_USAGE
    title = os.path.splitext(os.path.basename(args.script))[0]
    dot = to_dot(desc, title)
    if fmt == "dot":
        if args.output:
            from .script import write_text
            write_text(args.output, dot)
        else:
            sys.stdout.write(dot)
        return EXIT_OK
    if not args.output:
        raise _Usage(f"--format {fmt} needs -o FILE (images are not written to a terminal)")
    exe = shutil.which("dot")
    if exe is None:
        print("papy graph: Graphviz is not installed (the 'dot' program was not found).\n"
              "  Install it: Debian/Ubuntu 'sudo apt install graphviz', Fedora 'sudo dnf install "
              "graphviz',\n  macOS 'brew install graphviz', conda 'conda install graphviz', or "
              "see https://graphviz.org/download/.\n"
              f"  Or write DOT and render it elsewhere: papy graph {args.script} > graph.dot",
              file=sys.stderr)
        return EXIT_USAGE
    proc = subprocess.run([exe, f"-T{fmt}", "-o", args.output], input=dot.encode(),
                          capture_output=True, timeout=60)
    if proc.returncode != 0:
        print(f"papy graph: dot failed: {proc.stderr.decode(errors='replace').strip()}",
              file=sys.stderr)
        return EXIT_ERRORS
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
