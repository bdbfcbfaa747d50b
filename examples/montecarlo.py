#!/usr/bin/env python3
"""Per-item parallelism: a Monte Carlo estimate of pi.

split (produce=4) turns each job into 4 sub-tasks; simulate (spawn=4) runs
them in parallel; gather (consume=4) receives the 4 parts of a job as a
list.  produce*spawn upstream must equal consume*spawn downstream.

Run it: ``papy run examples/montecarlo.py`` or ``python examples/montecarlo.py``
(``--help`` lists the options); edit it: ``papy gui examples/montecarlo.py``.
Written by PaPy's script writer (examples/build_examples.py).
"""
from papy_engine import IMap, Piper, Plumber, Worker, imports
from papy_engine.workers.io import print_


def split(inbox, parts, samples):
    """Split a job into ``parts`` sub-tasks of ``samples`` random points each."""
    job = inbox[0]
    return [(job, part, samples) for part in range(parts)]


@imports(['random'])
def simulate(inbox):
    """Count random points of the unit square that fall inside the quarter circle."""
    job, part, samples = inbox[0]
    rng = random.Random(job * 1000 + part)
    hits = 0
    for _ in range(samples):
        x, y = rng.random(), rng.random()
        hits += x * x + y * y <= 1.0
    return job, hits, samples


def gather(inbox):
    """Consume the parts of one job (a list) into an estimate of pi."""
    parts = inbox[0]
    job = parts[0][0]
    hits = sum(p[1] for p in parts)
    total = sum(p[2] for p in parts)
    return f"job {job}: pi ~ {4 * hits / total:.5f} from {total} points in {len(parts)} parts"


def pipeline() -> Plumber:
    """Build the pipeline: IMaps (shared pools), Pipers (nodes), pipes (edges)."""
    pool = IMap(worker_num=2, name='pool')

    split_node = Piper(
        Worker(split, kwargs={'parts': 4, 'samples': 25000}),
        name='split',
        produce=4,
    )
    simulate_node = Piper(simulate, name='simulate', parallel=pool, spawn=4)
    gather_node = Piper((gather, print_), name='gather', consume=4, track=True)

    plumber = Plumber()
    plumber.add_pipers([split_node, simulate_node, gather_node])
    plumber.add_pipe((split_node, simulate_node, gather_node))
    return plumber


INPUTS = [range(8)]
LAYOUT = {
    'nodes': {
        'split': {'x': 60, 'y': 60},
        'simulate': {'x': 290, 'y': 60},
        'gather': {'x': 520, 'y': 60},
    },
}


if __name__ == "__main__":
    import sys

    from papy_engine.cli import run_script_main

    sys.exit(run_script_main(pipeline, INPUTS, sys.argv[1:]))
