#!/usr/bin/env python3
"""Word frequencies over a folder of text files.

Fan-out: every file goes to two analyses that share one process pool.
Fan-in: the report receives (file, top words, statistics); the order of
its inbox is set by the upstream pipers' branch (None first, then 1, 2).

Run it: ``papy run examples/wordfreq.py`` or ``python examples/wordfreq.py``
(``--help`` lists the options); edit it: ``papy gui examples/wordfreq.py``.
Written by PaPy's script writer (examples/build_examples.py).
"""
from papy_engine import IMap, Piper, Plumber, Worker, imports
from papy_engine.workers.io import print_


import os
import pathlib

# Data files live next to this script, whatever the current directory.
HERE = pathlib.Path(__file__).resolve().parent


STOP_WORDS = (
    'a', 'all', 'and', 'are', 'as', 'at', 'be', 'but', 'by', 'for', 'from', 'had',
    'have', 'he', 'her', 'his', 'i', 'in', 'is', 'it', 'me', 'my', 'no', 'nor', 'not',
    'of', 'on', 'or', 'our', 'she', 'so', 'that', 'the', 'their', 'there', 'these',
    'they', 'this', 'to', 'us', 'was', 'we', 'what', 'which', 'who', 'will', 'with',
    'you',
)


def read_text(inbox):
    """Read one text file: ``(file name, text)``."""
    path = inbox[0]
    with open(path, encoding="utf-8") as fh:
        return os.path.basename(path), fh.read()


@imports(['re', 'collections'])
def top_words(inbox, top=5):
    """The ``top`` most frequent words of a text, stop words left out."""
    _, text = inbox[0]
    words = re.findall(r"[a-z]+(?:'[a-z]+)?", text.lower())
    counts = collections.Counter(w for w in words if w not in STOP_WORDS)
    return counts.most_common(top)


def combine(inbox):
    """Fan-in: the file (from read), its top words and its statistics, as one line."""
    (name, _), top, stats = inbox
    words = ", ".join(f"{w} {n}" for w, n in top)
    return f"{name:<24} {stats['words']:5d} words {stats['lines']:4d} lines | {words}"


def text_stats(inbox):
    """Lines, words and characters of a text."""
    _, text = inbox[0]
    return {"lines": text.count("\n"), "words": len(text.split()), "chars": len(text)}


def pipeline() -> Plumber:
    """Build the pipeline: IMaps (shared pools), Pipers (nodes), pipes (edges)."""
    pool = IMap(worker_num=2, name='pool')

    read = Piper(read_text, name='read')
    words = Piper(
        Worker(top_words, kwargs={'top': 5}),
        name='words',
        parallel=pool,
        branch=1,
    )
    report = Piper((combine, print_), name='report', track=True)
    stats = Piper(text_stats, name='stats', parallel=pool, branch=2)

    plumber = Plumber()
    plumber.add_pipers([read, words, report, stats])
    plumber.add_pipe((read, report))
    plumber.add_pipe((read, words, report))
    plumber.add_pipe((read, stats, report))
    return plumber


INPUTS = [sorted(str(p) for p in (HERE / 'data' / 'texts').glob('*.txt'))]
LAYOUT = {
    'nodes': {
        'read': {'x': 60, 'y': 60},
        'words': {'x': 290, 'y': 60},
        'stats': {'x': 290, 'y': 170},
        'report': {'x': 520, 'y': 60},
    },
    'notes': {'report': 'inbox = (read, words, stats)'},
}


if __name__ == "__main__":
    import sys

    from papy_engine.cli import run_script_main

    sys.exit(run_script_main(pipeline, INPUTS, sys.argv[1:]))
