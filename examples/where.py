#!/usr/bin/env python3
"""Where: which host, process and thread handled each item.

The example of the PaPy paper: every item goes through a process pool,
a thread pool and the main thread; each stage records where it ran.
Add remote hosts with --workers HOST:PORT#N once remote pools exist.

Run it: ``papy run examples/where.py`` or ``python examples/where.py``
(``--help`` lists the options); edit it: ``papy gui examples/where.py``.
Written by PaPy's script writer (examples/build_examples.py).
"""
from papy_engine import IMap, Piper, Plumber, Worker, imports
from papy_engine.workers.io import print_


@imports(['os', 'socket', 'threading'])
def where(inbox, stage):
    """Append ``(stage, host, pid, thread)`` to the item's trail."""
    item = inbox[0]
    number, trail = item if isinstance(item, tuple) else (item, [])
    here = (stage, socket.gethostname(), os.getpid(), threading.current_thread().name)
    return number, trail + [here]


def report(inbox):
    """Format an item's trail as one line."""
    number, trail = inbox[0]
    steps = "; ".join(f"{stage}: {host} pid {pid} {thread}" for stage, host, pid, thread in trail)
    return f"item {number:2d} -> {steps}"


def pipeline() -> Plumber:
    """Build the pipeline: IMaps (shared pools), Pipers (nodes), pipes (edges)."""
    processes = IMap(worker_num=2, stride=4, name='processes')
    threads = IMap(worker_num=3, worker_type='thread', stride=4, name='threads')

    in_process = Piper(
        Worker(where, args=('process',)),
        name='in_process',
        parallel=processes,
    )
    in_thread = Piper(
        Worker(where, args=('thread',)),
        name='in_thread',
        parallel=threads,
    )
    in_main = Piper(Worker(where, args=('main',)), name='in_main')
    show = Piper((report, print_), name='show', track=True)

    plumber = Plumber()
    plumber.add_pipers([in_process, in_thread, in_main, show])
    plumber.add_pipe((in_process, in_thread, in_main, show))
    return plumber


INPUTS = [range(12)]
LAYOUT = {
    'nodes': {
        'in_process': {'x': 60, 'y': 60},
        'in_thread': {'x': 290, 'y': 60},
        'in_main': {'x': 520, 'y': 60},
        'show': {'x': 750, 'y': 60},
    },
    'notes': {'in_process': '2 worker processes', 'in_thread': '3 threads'},
}


if __name__ == "__main__":
    import sys

    from papy_engine.cli import run_script_main

    sys.exit(run_script_main(pipeline, INPUTS, sys.argv[1:]))
