"""Benchmark: moving large items between two process-parallel pipers.

A pipeline of two pipers on one process pool -- ``transform`` builds and
transforms an item of SIZE MiB, ``checksum`` reduces it to a CRC -- is run on
ITEMS inputs with:

* ``default``: results travel through the driving process (pickled twice);
* each ``io.dump_item``/``io.load_item`` transport (``file``, ``fifo``,
  ``tcp``, ``shm``, ``sqlite``): only a small locator travels;
* ``Pool.imap``: ``pool.imap(checksum, pool.imap(transform, inputs))`` on a
  ``multiprocessing.Pool`` of the same size, the standard-library baseline.

Throughput is ITEMS x SIZE / wall time from the first item pulled to the
last result (worker start-up excluded for every method: it depends on whether
fork or spawn is used, not on the transfer), the best of ``--repeat`` runs.  Usage::

    python benchmarks/bench_transfer.py [--items 64] [--size 8] [--workers 2]
        [--repeat 3] [--methods default,shm,...] [--dir DIR]
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
import zlib

from papy_engine import IMap, Piper, Plumber, Worker
from papy_engine.workers import io

MIB = 1 << 20
_TABLE = bytes((b * 7 + 3) % 256 for b in range(256))
TRANSPORTS = ["file", "fifo", "tcp", "shm", "sqlite"]


def transform(inbox, size):
    """Build the item for input ``i`` and transform every byte of it."""
    i = inbox[0]
    return (bytes([i % 251]) * size).translate(_TABLE)


def checksum(inbox):
    return zlib.crc32(inbox[0])


def _pool_transform(i, size):
    return transform((i,), size)


def _pool_checksum(item):
    return checksum((item,))


def expected(items: int, size: int) -> list[int]:
    return [checksum((transform((i,), size),)) for i in range(items)]


def run_plumber(method: str, items: int, size: int, workers: int, dir: str):
    """Run the pipeline; return ``(results, seconds from run() to the end)``."""
    imap = IMap(worker_num=workers, worker_type="process")
    if method == "default":
        up = Worker(transform, (size,))
        down = Worker(checksum)
    else:
        up = Worker((transform, io.dump_item), args=((size,), ()),
                    kwargs=({}, {"type": method, "dir": dir}))
        down = Worker((io.load_item, checksum))
    plumber = Plumber()
    plumber.add_pipe((Piper(up, parallel=imap, name="transform"),
                      Piper(down, parallel=imap, name="checksum", track=True)))
    plumber.start([range(items)])  # starts the worker processes
    t0 = time.perf_counter()
    plumber.run()
    if not plumber.wait(timeout=600):
        plumber.stop()
        raise RuntimeError(f"{method}: the pipeline did not finish in 600 s")
    return plumber.results["checksum"], time.perf_counter() - t0


def run_pool(items: int, size: int, workers: int) -> list:
    from functools import partial
    from papy_engine.pool.process import default_start_method
    ctx = multiprocessing.get_context(default_start_method())  # as IMap chooses
    with ctx.Pool(workers) as pool:
        pool.map(abs, range(workers))  # the workers are up
        t0 = time.perf_counter()
        stage1 = pool.imap(partial(_pool_transform, size=size), range(items))
        return list(pool.imap(_pool_checksum, stage1)), time.perf_counter() - t0


def measure(method: str, args, want: list[int]) -> float:
    best = float("inf")
    for _ in range(args.repeat):
        if method == "Pool.imap":
            got, elapsed = run_pool(args.items, args.size * MIB, args.workers)
        else:
            got, elapsed = run_plumber(method, args.items, args.size * MIB, args.workers,
                                       args.dir)
        if got != want:
            bad = next(i for i, (g, w) in enumerate(zip(got, want)) if g != w)
            raise RuntimeError(f"{method}: wrong result for item {bad}: {got[bad]!r}")
        best = min(best, elapsed)
    return args.items * args.size * MIB / 1e6 / best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=64)
    parser.add_argument("--size", type=int, default=8, help="MiB per item")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--methods", default=",".join(["default", *TRANSPORTS, "Pool.imap"]))
    parser.add_argument("--dir", default=None, help="directory of file/fifo/sqlite items")
    args = parser.parse_args(argv)
    args.dir = args.dir or tempfile.mkdtemp(prefix="papy-bench-")
    methods = args.methods.split(",")
    want = expected(args.items, args.size * MIB)
    print(f"{args.items} items x {args.size} MiB, {args.workers} worker processes, "
          f"best of {args.repeat}; items dir {args.dir}; {os.cpu_count()} CPUs",
          flush=True)
    rates = {}
    for method in methods:
        rates[method] = measure(method, args, want)
        print(f"  {method:<10} {rates[method]:8.0f} MB/s", file=sys.stderr, flush=True)
    base, pool = rates.get("default"), rates.get("Pool.imap")
    print(f"\n| method | MB/s | vs default | vs Pool.imap |\n|---|---:|---:|---:|")
    for method, rate in rates.items():
        r1 = f"{rate / base:.2f}x" if base else "-"
        r2 = f"{rate / pool:.2f}x" if pool else "-"
        print(f"| {method} | {rate:.0f} | {r1} | {r2} |")
    left = io.cleanup(args.dir)
    if left:
        print(f"\nwarning: cleanup removed {left} leftover items", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
