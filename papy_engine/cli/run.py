"""``papy run SCRIPT`` and ``python SCRIPT.py``: run a pipeline headless.

Both share :func:`run_plumber`: apply the options, run with a progress
display on stderr (:mod:`.progress`), print a summary, return an exit status
(:mod:`.status`).  A saved script's ``__main__`` block calls
:func:`run_script_main`.
"""
from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..errors import PapyError, is_placeholder
from ..log import start_logger
from .progress import Progress, summary
from .status import EXIT_ERRORS, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError

__all__ = ["main", "run_script_main", "run_plumber", "parse_workers", "add_run_options",
           "HELP"]

log = logging.getLogger(__name__)

HELP = "run a pipeline script headless"

RUN_EXAMPLES = """\
examples:
  papy run examples/wordfreq.py
  papy run examples/montecarlo.py --stride 64 --quiet
  papy run pipeline.py --log run.log --log-level DEBUG
  papy run pipeline.py --workers node1:18812#4,node2:18812#4
  papy run pipeline.py --dask tcp://scheduler:8786   (or --dask local:4)
  papy run pipeline.py --results out/     (out/<piper>.jsonl, one JSON record per line)
  papy run pipeline.py --results out/ --resume   (continue a run that was killed or stopped)
  python pipeline.py --quiet          (a saved script runs itself the same way)

exit status: 0 all items clean, 1 some items became placeholders (the summary
names the pipers and their first error), 2 usage or load error, 130 stopped
by Ctrl-C (a first Ctrl-C stops gracefully; a second one aborts).
"""


# -- options -----------------------------------------------------------------------
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


def _dask_arg(text: str) -> str:
    from ..errors import IMapError
    from ..pool.dask_cluster import check_dask
    try:
        return check_dask(text)
    except IMapError as exc:
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
    parser.add_argument("--dask", type=_dask_arg, metavar="ADDRESS|local:N",
                        help="run every parallel IMap on a Dask cluster instead of local "
                             "workers: a scheduler address, or local:N for a local cluster "
                             "of N worker processes (needs papy-studio[dask]; "
                             "see docs/cluster.md)")
    parser.add_argument("--log", metavar="FILE", help="write the engine log to FILE")
    parser.add_argument("--log-level", metavar="LEVEL", type=str.upper,
                        choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
                        help="DEBUG, INFO, WARNING, ERROR or CRITICAL (default: INFO with "
                             "--log, else engine messages are not shown)")
    parser.add_argument("--stride", type=_positive, metavar="N",
                        help="items pulled and interleaved at a time by every IMap")
    parser.add_argument("--results", metavar="DIR",
                        help="write the results of the tracked pipers (or of every output "
                             "piper when none is tracked) to DIR/<piper>.jsonl as they arrive, "
                             "with a journal of what is durably complete")
    parser.add_argument("--resume", action="store_true",
                        help="with --results: continue the run recorded in DIR (killed, "
                             "stopped or failed), skipping the input items already done")
    parser.add_argument("--force", action="store_true",
                        help="with --resume: resume even though the script changed (you "
                             "vouch that the finished results still hold)")
    parser.add_argument("--quiet", "-q", action="store_true",
                        help="no progress display; only a brief summary")
    parser.add_argument("--interval", type=_seconds, default=2.0, metavar="SECONDS",
                        help="seconds between progress lines when stderr is not a terminal "
                             "(default 2)")


def setup_logging(args: argparse.Namespace) -> None:
    """Configure the engine's log for a headless run (``--log``, ``--log-level``)."""
    if args.log:
        start_logger(args.log_level or "INFO", filename=args.log)
    else:
        # A handler is always installed: without one, Python's last-resort
        # handler would print every placeholder's ERROR record over the display.
        start_logger(args.log_level or "CRITICAL")


# -- entry points --------------------------------------------------------------------
def main(argv: Sequence[str]) -> int:
    """``papy run SCRIPT``: load the script, run it, return the exit status."""
    from ..script import load_namespace  # the script package, only for this command

    parser = argparse.ArgumentParser(
        prog="papy run", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run a pipeline script headless with a progress display and a per-piper "
                    "summary.", epilog=RUN_EXAMPLES)
    parser.add_argument("script", metavar="SCRIPT", help="a saved pipeline (.py)")
    add_run_options(parser)
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exc:  # --help, or a usage error (already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    setup_logging(args)
    try:
        plumber, ns = load_namespace(args.script)
    except PapyError as exc:
        print(f"papy run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return run_plumber(plumber, ns.get("INPUTS"), args, label=os.path.basename(args.script),
                       script_path=args.script)


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
    setup_logging(args)
    try:
        plumber = pipeline()
    except Exception as exc:
        print(f"{prog}: pipeline() failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return run_plumber(plumber, inputs, args, label=prog, script_path=_script_of(pipeline))


def _script_of(pipeline: Callable) -> str | None:
    """The file a saved script's ``pipeline`` function is defined in."""
    import inspect
    try:
        return inspect.getsourcefile(pipeline)
    except TypeError:
        return None


# -- one run -------------------------------------------------------------------------
def run_plumber(plumber, inputs: Any, args: argparse.Namespace, label: str = "",
                script_path: str | None = None) -> int:
    """Run ``plumber`` on ``inputs`` with ``papy run`` options ``args``; returns the exit status.

    Progress goes to stderr (a live table on a terminal, plain lines otherwise),
    then the summary.  The first SIGINT stops gracefully; a second one aborts.
    ``script_path`` is the script the pipeline came from (its fingerprint is
    recorded with ``--results``).
    """
    try:
        inputs = _prepare_inputs(plumber, inputs, args, label)
        session = _open_results(plumber, inputs, args, script_path)
    except UsageError as exc:
        print(f"papy: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if session is not None:
        for note in session.notes:
            print(f"papy: {note}", file=sys.stderr)
        if session.datas is None:   # resumed a run that had finished
            session.close(None)
            return int((session.previous or {}).get("exit") or 0)
        inputs = session.datas
    try:
        return _run(plumber, inputs, args, label, session)
    finally:
        if session is not None:
            session.close(None)   # (only when _run did not close it: an abort)


def _run(plumber, inputs: Any, args: argparse.Namespace, label: str, session) -> int:
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
        plumber.start(inputs, sinks=session.sinks if session else None)
    except PapyError as exc:
        print(f"papy: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with sigint_stops(plumber, progress):
        failure = _run_to_end(plumber, progress)
    stats = plumber.stats
    if failure is None and stats["state"] == "failed":
        failure = plumber.error  # an engine failure: wait() returned
    code = exit_code(stats, failure)
    if session is not None:
        try:
            session.close(stats["state"], code)
        except PapyError as exc:
            failure, code = failure or exc, EXIT_ERRORS
    progress.close(stats)
    if failure is not None:
        detail = failure.traceback if is_placeholder(failure) and failure.traceback else ""
        print(f"papy: the pipeline failed: {type(failure).__name__}: {failure}\n{detail}",
              file=err, end="" if detail.endswith("\n") else "\n")
    err.write(summary(stats, first_errors, label, brief=args.quiet))
    if session is not None:
        err.write("papy: results in " + ", ".join(str(p) for p in session.paths.values()) + "\n")
        if stats["state"] != "finished" and session.refusal is None:
            err.write(f"papy: add --resume to continue this run: papy run SCRIPT --results "
                      f"{args.results} --resume\n")
    err.flush()
    return code


def _open_results(plumber, inputs: Any, args: argparse.Namespace, script_path: str | None):
    """The results session for ``--results DIR [--resume [--force]]``, or None.

    Raises:
        UsageError: a bad combination of options, or the folder cannot be
            written or resumed (the message says why).
    """
    if (args.resume or args.force) and not args.results:
        raise UsageError("--resume and --force need --results DIR")
    if args.force and not args.resume:
        raise UsageError("--force only applies to --resume")
    if not args.results:
        return None
    from ..durable import open_results
    try:
        return open_results(args.results, plumber, inputs, script_path=script_path,
                            resume=args.resume, force=args.force)
    except PapyError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot write results to {args.results}: {exc}") from None


def _prepare_inputs(plumber, inputs: Any, args: argparse.Namespace, label: str) -> Any:
    """Apply ``--workers``/``--dask``/``--stride`` and evaluate INPUTS.

    Raises:
        UsageError: no INPUTS, or evaluating them failed.
    """
    try:
        _apply_options(plumber, args)
        if callable(inputs):
            inputs = inputs()
    except Exception as exc:
        raise UsageError(f"evaluating INPUTS failed: {type(exc).__name__}: {exc}") from exc
    if inputs is None:
        raise UsageError(f"{label or 'the script'} defines no INPUTS: set INPUTS = "
                         "[iterable, ...] with one iterable per input piper")
    return inputs


def _imaps(plumber) -> list:
    out: list = []
    for p in plumber.pipers:
        if p.parallel and all(p.parallel is not m for m in out):
            out.append(p.parallel)
    return out


def _apply_options(plumber, args: argparse.Namespace) -> None:
    imaps = _imaps(plumber)
    if args.workers:
        if not imaps:
            print("papy: warning: the pipeline has no parallel pipers; --workers has no effect",
                  file=sys.stderr)
        for m in imaps:
            m.worker_remote = list(m.worker_remote or []) + list(args.workers)
    if args.dask:
        if not imaps:
            print("papy: warning: the pipeline has no parallel pipers; --dask has no effect",
                  file=sys.stderr)
        for m in imaps:   # local:N: the IMaps share one cluster while the run lasts
            m.dask, m.worker_num = args.dask, 0
    if args.stride:
        for m in imaps:
            m.stride = args.stride
        plumber.stride = args.stride


def _run_to_end(plumber, progress: Progress) -> BaseException | None:
    """``run()``, then show progress until the run ends; the failure ``wait()`` raised."""
    plumber.run()
    while True:
        try:
            if plumber.wait(timeout=0.1):
                return None
        except Exception as exc:  # debug=True errors and engine failures
            return exc
        progress.update(plumber.stats)


@contextmanager
def sigint_stops(plumber, progress: Progress) -> Iterator[None]:
    """While the body runs, a first SIGINT stops ``plumber`` gracefully, a second aborts.

    The stop runs in a thread (the handler must not block); aborting exits the
    process with status 130.  Outside the main thread signals cannot be
    handled, and nothing changes.
    """
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
    try:
        yield
    except KeyboardInterrupt:
        _abort()
    finally:
        if in_main:
            signal.signal(signal.SIGINT, old)


def exit_code(stats: dict, failure: BaseException | None) -> int:
    """The exit status of a run that ended with ``stats`` (see :mod:`.status`)."""
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


def _abort() -> None:
    """Second Ctrl-C: give up on the items in flight and leave now."""
    print("\npapy: aborted; items in flight are lost", file=sys.stderr)
    for child in multiprocessing.active_children():
        child.terminate()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)
