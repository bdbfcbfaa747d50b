#!/usr/bin/env python3
"""Sequence statistics over a FASTA file: length, GC content, k-mer counts.

Records are read lazily by read_fasta (in this script), analysed in a
shared process pool, and joined per record in input order.

Run it: ``papy run examples/fasta_stats.py`` or ``python examples/fasta_stats.py``
(``--help`` lists the options); edit it: ``papy gui examples/fasta_stats.py``.
Written by PaPy's script writer (examples/build_examples.py).
"""
from papy_engine import IMap, Piper, Plumber, Worker, imports
from papy_engine.workers.core import ipasser
from papy_engine.workers.io import print_


import os
import pathlib

# Data files live next to this script, whatever the current directory.
HERE = pathlib.Path(__file__).resolve().parent


def read_fasta(path):
    """Yield ``(name, sequence)`` records of a FASTA file, one at a time."""
    name, parts = None, []
    with open(path, encoding="ascii") as fh:
        for line in fh:
            line = line.strip()
            if line.startswith(">"):
                if name is not None:
                    yield name, "".join(parts)
                name, parts = line[1:].split()[0], []
            elif line and not line.startswith(";"):
                parts.append(line.upper())
    if name is not None:
        yield name, "".join(parts)


def gc_content(inbox):
    """Fraction of G and C in a sequence record."""
    _, seq = inbox[0]
    return (seq.count("G") + seq.count("C")) / len(seq) if seq else 0.0


def summarize(inbox):
    """Fan-in: record, GC fraction and top k-mers as one line."""
    (name, seq), gc, kmers = inbox
    top = " ".join(f"{kmer}:{n}" for kmer, n in kmers)
    return f"{name:<6} length {len(seq):4d}  GC {gc:6.1%}  top 3-mers {top}"


@imports(['collections'])
def kmer_counts(inbox, k=3, top=3):
    """The ``top`` most frequent k-mers of a sequence record."""
    _, seq = inbox[0]
    counts = collections.Counter(seq[i:i + k] for i in range(len(seq) - k + 1))
    return counts.most_common(top)


def pipeline() -> Plumber:
    """Build the pipeline: IMaps (shared pools), Pipers (nodes), pipes (edges)."""
    pool = IMap(worker_num=2, name='pool')

    records = Piper(ipasser, name='records')
    gc = Piper(gc_content, name='gc', parallel=pool, branch=1)
    summary = Piper((summarize, print_), name='summary', track=True)
    kmers = Piper(
        Worker(kmer_counts, kwargs={'k': 3, 'top': 3}),
        name='kmers',
        parallel=pool,
        branch=2,
    )

    plumber = Plumber()
    plumber.add_pipers([records, gc, summary, kmers])
    plumber.add_pipe((records, summary))
    plumber.add_pipe((records, gc, summary))
    plumber.add_pipe((records, kmers, summary))
    return plumber


INPUTS = [read_fasta(HERE / 'data' / 'sequences.fasta')]
LAYOUT = {
    'nodes': {
        'records': {'x': 60, 'y': 60},
        'gc': {'x': 290, 'y': 60},
        'kmers': {'x': 290, 'y': 170},
        'summary': {'x': 520, 'y': 60},
    },
}


if __name__ == "__main__":
    import sys

    from papy_engine.cli import run_script_main

    sys.exit(run_script_main(pipeline, INPUTS, sys.argv[1:]))
