#!/usr/bin/env python3
"""Build the example pipelines in code and save them with PaPy's own script writer.

Run ``python examples/build_examples.py`` after changing an example here; the
saved scripts next to this file are what users run and open in the editor:

* ``where.py``       -- which host, process and thread handled each item;
* ``wordfreq.py``    -- word frequencies over a folder of texts (fan-out, fan-in);
* ``montecarlo.py``  -- per-item parallelism: produce, spawn and consume;
* ``fasta_stats.py`` -- GC content, lengths and k-mer counts of a FASTA file.

The node functions are defined here, in ``__main__``, so the writer copies
their source (with their ``@imports``) into each script; library functions
such as ``print_`` are imported.
"""
from __future__ import annotations

import os
import sys

from papy_engine import IMap, Piper, Plumber, Worker, imports
from papy_engine.script import ScriptSource, describe, render, write_text
from papy_engine.workers.core import ipasser
from papy_engine.workers.io import print_

HERE = os.path.dirname(os.path.abspath(__file__))

# Extra top-level code for scripts that read bundled data next to themselves.
DATA_PREAMBLE = '''import os
import pathlib

# Data files live next to this script, whatever the current directory.
HERE = pathlib.Path(__file__).resolve().parent
'''

FASTA_PREAMBLE = DATA_PREAMBLE + '''

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
'''


def _doc(title: str, body: str, name: str) -> str:
    return (f"{title}\n\n{body}\n\n"
            f"Run it: ``papy run examples/{name}`` or ``python examples/{name}``\n"
            f"(``--help`` lists the options); edit it: ``papy gui examples/{name}``.\n"
            "Written by PaPy's script writer (examples/build_examples.py).\n")


def _layout(columns: list[list[str]], notes: dict[str, str] | None = None) -> dict:
    """Editor positions: one column of nodes per stage, left to right."""
    nodes = {}
    for x, column in enumerate(columns):
        for y, name in enumerate(column):
            nodes[name] = {"x": 60 + 230 * x, "y": 60 + 110 * y}
    layout: dict = {"nodes": nodes}
    if notes:
        layout["notes"] = notes
    return layout


def _save(plumber, name: str, inputs, layout, doc: str, preamble: str = "") -> str:
    # As if loaded from a script with this extra code: describe() adds to it
    # only what the node functions need and it does not already define.
    plumber.script_source = ScriptSource(preamble, doc)
    desc = describe(plumber, inputs=inputs, layout=layout)
    path = os.path.join(HERE, name)
    write_text(path, render(desc))
    return path


# -- where: which host, process and thread ran each item ---------------------------
@imports(["os", "socket", "threading"])
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


def build_where() -> str:
    processes = IMap(worker_num=2, worker_type="process", stride=4, name="processes")
    threads = IMap(worker_num=3, worker_type="thread", stride=4, name="threads")
    in_process = Piper(Worker(where, ("process",)), parallel=processes, name="in_process")
    in_thread = Piper(Worker(where, ("thread",)), parallel=threads, name="in_thread")
    in_main = Piper(Worker(where, ("main",)), name="in_main")
    show = Piper(Worker((report, print_)), name="show", track=True)
    plumber = Plumber()
    plumber.add_pipe((in_process, in_thread, in_main, show))
    doc = _doc("Where: which host, process and thread handled each item.",
               "The example of the PaPy paper: every item goes through a process pool,\n"
               "a thread pool and the main thread; each stage records where it ran.\n"
               "Add remote hosts with --workers HOST:PORT#N once remote pools exist.",
               "where.py")
    layout = _layout([["in_process"], ["in_thread"], ["in_main"], ["show"]],
                     {"in_process": "2 worker processes", "in_thread": "3 threads"})
    return _save(plumber, "where.py", ["range(12)"], layout, doc)


# -- wordfreq: fan-out to two parallel analyses, fan-in to one report --------------
STOP_WORDS = ("a", "all", "and", "are", "as", "at", "be", "but", "by", "for", "from", "had",
              "have", "he", "her", "his", "i", "in", "is", "it", "me", "my", "no", "nor", "not",
              "of", "on", "or", "our", "she", "so", "that", "the", "their", "there", "these",
              "they", "this", "to", "us", "was", "we", "what", "which", "who", "will", "with",
              "you")


def read_text(inbox):
    """Read one text file: ``(file name, text)``."""
    path = inbox[0]
    with open(path, encoding="utf-8") as fh:
        return os.path.basename(path), fh.read()


@imports(["re", "collections"])
def top_words(inbox, top=5):
    """The ``top`` most frequent words of a text, stop words left out."""
    _, text = inbox[0]
    words = re.findall(r"[a-z]+(?:'[a-z]+)?", text.lower())
    counts = collections.Counter(w for w in words if w not in STOP_WORDS)
    return counts.most_common(top)


def text_stats(inbox):
    """Lines, words and characters of a text."""
    _, text = inbox[0]
    return {"lines": text.count("\n"), "words": len(text.split()), "chars": len(text)}


def combine(inbox):
    """Fan-in: the file (from read), its top words and its statistics, as one line."""
    (name, _), top, stats = inbox
    words = ", ".join(f"{w} {n}" for w, n in top)
    return f"{name:<24} {stats['words']:5d} words {stats['lines']:4d} lines | {words}"


def build_wordfreq() -> str:
    pool = IMap(worker_num=2, name="pool")
    read = Piper(read_text, name="read")
    words = Piper(Worker(top_words, kwargs={"top": 5}), parallel=pool, name="words", branch=1)
    stats = Piper(text_stats, parallel=pool, name="stats", branch=2)
    merge = Piper(Worker((combine, print_)), name="report", track=True)
    plumber = Plumber()
    plumber.add_pipe((read, words, merge))
    plumber.add_pipe((read, stats, merge))
    plumber.add_pipe((read, merge))
    doc = _doc("Word frequencies over a folder of text files.",
               "Fan-out: every file goes to two analyses that share one process pool.\n"
               "Fan-in: the report receives (file, top words, statistics); the order of\n"
               "its inbox is set by the upstream pipers' branch (None first, then 1, 2).",
               "wordfreq.py")
    layout = _layout([["read"], ["words", "stats"], ["report"]],
                     {"report": "inbox = (read, words, stats)"})
    inputs = ["sorted(str(p) for p in (HERE / 'data' / 'texts').glob('*.txt'))"]
    return _save(plumber, "wordfreq.py", inputs, layout, doc, DATA_PREAMBLE)


# -- montecarlo: split each job (produce), run the parts (spawn), gather (consume) --
def split(inbox, parts, samples):
    """Split a job into ``parts`` sub-tasks of ``samples`` random points each."""
    job = inbox[0]
    return [(job, part, samples) for part in range(parts)]


@imports(["random"])
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


def build_montecarlo() -> str:
    pool = IMap(worker_num=2, name="pool")
    split_ = Piper(Worker(split, kwargs={"parts": 4, "samples": 25000}), name="split",
                   produce=4)
    sim = Piper(simulate, parallel=pool, name="simulate", spawn=4)
    gat = Piper(Worker((gather, print_)), name="gather", consume=4, track=True)
    plumber = Plumber()
    plumber.add_pipe((split_, sim, gat))
    doc = _doc("Per-item parallelism: a Monte Carlo estimate of pi.",
               "split (produce=4) turns each job into 4 sub-tasks; simulate (spawn=4) runs\n"
               "them in parallel; gather (consume=4) receives the 4 parts of a job as a\n"
               "list.  produce*spawn upstream must equal consume*spawn downstream.",
               "montecarlo.py")
    layout = _layout([["split"], ["simulate"], ["gather"]])
    return _save(plumber, "montecarlo.py", ["range(8)"], layout, doc)


# -- fasta_stats: sequence statistics, the field PaPy came from --------------------
def gc_content(inbox):
    """Fraction of G and C in a sequence record."""
    _, seq = inbox[0]
    return (seq.count("G") + seq.count("C")) / len(seq) if seq else 0.0


@imports(["collections"])
def kmer_counts(inbox, k=3, top=3):
    """The ``top`` most frequent k-mers of a sequence record."""
    _, seq = inbox[0]
    counts = collections.Counter(seq[i:i + k] for i in range(len(seq) - k + 1))
    return counts.most_common(top)


def summarize(inbox):
    """Fan-in: record, GC fraction and top k-mers as one line."""
    (name, seq), gc, kmers = inbox
    top = " ".join(f"{kmer}:{n}" for kmer, n in kmers)
    return f"{name:<6} length {len(seq):4d}  GC {gc:6.1%}  top 3-mers {top}"


def build_fasta() -> str:
    pool = IMap(worker_num=2, name="pool")
    records = Piper(ipasser, name="records")
    gc = Piper(gc_content, parallel=pool, name="gc", branch=1)
    kmers = Piper(Worker(kmer_counts, kwargs={"k": 3, "top": 3}), parallel=pool, name="kmers",
                  branch=2)
    out = Piper(Worker((summarize, print_)), name="summary", track=True)
    plumber = Plumber()
    plumber.add_pipe((records, gc, out))
    plumber.add_pipe((records, kmers, out))
    plumber.add_pipe((records, out))
    doc = _doc("Sequence statistics over a FASTA file: length, GC content, k-mer counts.",
               "Records are read lazily by read_fasta (in this script), analysed in a\n"
               "shared process pool, and joined per record in input order.",
               "fasta_stats.py")
    layout = _layout([["records"], ["gc", "kmers"], ["summary"]])
    inputs = ["read_fasta(HERE / 'data' / 'sequences.fasta')"]
    return _save(plumber, "fasta_stats.py", inputs, layout, doc, FASTA_PREAMBLE)


def main() -> int:
    for build in (build_where, build_wordfreq, build_montecarlo, build_fasta):
        print("wrote", os.path.relpath(build(), os.getcwd()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
