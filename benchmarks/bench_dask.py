"""Benchmark: PaPy on a Dask cluster against Dask's own ways, and against local processes.

    python benchmarks/bench_dask.py                 # both cases, best of 3 (~3 minutes)
    python benchmarks/bench_dask.py --quick         # smaller inputs, one run each
    python benchmarks/bench_dask.py --case cpu --repeat 5
    python benchmarks/bench_dask.py --case cpu --cpu-items 2000   # start-up amortized

The workloads of bench_engine.py, on a 2-worker LocalCluster (two worker
processes of one thread, nannies, on 127.0.0.1, with PaPy's scheduler
settings), started once before the clock runs:

  cpu       400 items of ~5 ms pure-Python work: speedup over a serial loop
  overhead  200,000 trivial items (x + 1): microseconds per item

Contenders, each timed from its first item in to its last result out:

  PaPy on Dask        a Plumber with one parallel piper on IMap(worker_num=0,
                      dask=client) (a new pool session per run: its client
                      threads start inside the timing)
  client.map chunks   Dask's own map over the same chunks PaPy aims at (about
                      100 ms of measured work each, at most 4096 items), items and
                      results as pickled bytes like PaPy's (Dask walks lists),
                      all submitted at once, gathered as they complete
  dask.bag            from_sequence(...).map(f).compute(): Dask's partitioning,
                      and partitions of the same size as those chunks
  PaPy local          the same Plumber on IMap(worker_num=2) processes (the
                      pool's start and stop inside the timing)

After one untimed run of each (modules and functions loaded on the workers),
runs alternate between contenders; the table shows the best run of each and
the spread over runs (min-max), and the ratios the targets name (issue 15).
"""
from __future__ import annotations

import argparse
import math
import pickle
import statistics
import sys
import time

CPU_LOOPS = 1000   # calibrated in main() to ~5 ms per item


def triv(x):
    return x + 1


def triv_box(inbox):
    return inbox[0] + 1


def cpu(x, loops):
    n = 0
    for i in range(loops):
        n += i * i % 7
    return n + x


def cpu_box(inbox, loops):
    return cpu(inbox[0], loops)


def run_chunk(func, data, *args):
    """A chunk as Dask's own map runs it best: items in and results out as pickled
    bytes (a result that is a list of 4096 ints costs Dask ~40 µs per item here)."""
    return pickle.dumps([func(x, *args) for x in pickle.loads(data)],
                        protocol=pickle.HIGHEST_PROTOCOL)


def calibrate(target_s: float = 0.005) -> int:
    loops = 10000
    t = time.perf_counter()
    cpu(0, loops)
    return max(1000, int(loops * target_s / (time.perf_counter() - t)))


def chunk_size(per_item_s: float) -> int:
    """What PaPy's Dask slots aim at: ~100 ms of work, at most 4096 items."""
    return max(1, min(4096, int(0.1 / max(per_item_s, 1e-9))))


# -- contenders: each returns the results, the caller times it ------------------------
def papy(func, args, n, where):
    from papy_engine import IMap, Piper, Plumber, Worker
    imap = IMap(worker_num=0, dask=where) if where != "local" else IMap(worker_num=2)
    p = Plumber()
    p.add_piper(Piper(Worker(func, args), parallel=imap, track=True, name="work"))
    p.start([range(n)])
    p.run()
    p.wait()
    return p.results["work"]


def client_map(client, func, args, n, size):
    from distributed import as_completed
    # pickled bytes, as PaPy sends them: Dask walks list arguments looking for keys
    chunks = [pickle.dumps(list(range(i, min(n, i + size)))) for i in range(0, n, size)]
    futures = client.map(run_chunk, [func] * len(chunks), chunks,
                         *[[a] * len(chunks) for a in args], pure=False)   # no cached keys
    out = {}
    for fut, res in as_completed(futures, loop=client.loop, with_results=True):
        out[fut.key] = res
    return [x for f in futures for x in pickle.loads(out[f.key])]


def bag(client, func, args, n, size):
    import dask.bag as db
    seq = range(n)
    b = db.from_sequence(seq) if size is None else \
        db.from_sequence(seq, npartitions=math.ceil(n / size))
    return b.map(func, *args).compute(scheduler=client)


# -- measuring ----------------------------------------------------------------------
def contenders(client, func, box, args, n, size):
    return {
        "PaPy on Dask": lambda: papy(box, args, n, client),
        f"client.map, chunks of {size}": lambda: client_map(client, func, args, n, size),
        "dask.bag, its partitions": lambda: bag(client, func, args, n, None),
        f"dask.bag, partitions of {size}": lambda: bag(client, func, args, n, size),
        "PaPy local (2 processes)": lambda: papy(box, args, n, "local"),
    }


def measure(runs: dict, expect: list, repeat: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():   # warm up: modules and functions loaded on the workers
        run()
    for _ in range(repeat):
        for name, run in runs.items():
            t = time.perf_counter()
            got = run()
            times[name].append(time.perf_counter() - t)
            if got != expect:
                raise SystemExit(f"{name}: wrong results")
    return times


def spread(values: list[float]) -> str:
    return f"{min(values):.3g}-{max(values):.3g}" if len(values) > 1 else f"{values[0]:.3g}"


def report(title: str, times: dict, n: int, serial: float | None) -> None:
    print(f"\n### {title}\n")
    if serial is not None:
        print(f"serial loop: {serial:.3f} s\n")
        print("| contender | speedup over serial (best) | spread over runs |")
        print("|---|---:|---|")
        for name, ts in times.items():
            print(f"| {name} | {serial / min(ts):.2f}x | "
                  f"{spread([serial / t for t in ts])}x |")
    else:
        print("| contender | µs/item (best) | spread over runs |")
        print("|---|---:|---|")
        for name, ts in times.items():
            print(f"| {name} | {min(ts) / n * 1e6:.2f} | "
                  f"{spread([t / n * 1e6 for t in ts])} |")
    papy_t = times["PaPy on Dask"]
    print("\nratios (PaPy on Dask time / other; < 1 is faster; best runs, and the median "
          "of the per-run ratios):\n")
    for name, ts in times.items():
        if name != "PaPy on Dask":
            per_run = [a / b for a, b in zip(papy_t, ts)]
            print(f"- vs {name}: {min(papy_t) / min(ts):.2f} "
                  f"(median {statistics.median(per_run):.2f}, runs {spread(per_run)})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", action="append", choices=["cpu", "overhead"])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--cpu-items", type=int, default=400,
                    help="items of the cpu case (more: start-up weighs less)")
    args = ap.parse_args(argv)
    cases = args.case or ["cpu", "overhead"]
    repeat = 1 if args.quick else args.repeat
    from distributed import Client

    from papy_engine.pool.dask_cluster import local_cluster
    loops = calibrate()
    t0 = time.perf_counter()
    cluster = local_cluster(2)
    client = Client(cluster, set_as_default=False)
    print(f"a 2-worker LocalCluster started in {time.perf_counter() - t0:.2f} s; "
          f"{repeat} run(s) of each contender", file=sys.stderr)
    try:
        if "cpu" in cases:
            n = 100 if args.quick else args.cpu_items
            t = time.perf_counter()
            expect = [cpu(x, loops) for x in range(n)]
            serial = time.perf_counter() - t
            size = chunk_size(serial / n)
            times = measure(contenders(client, cpu, cpu_box, (loops,), n, size), expect,
                            repeat)
            report(f"cpu: {n} items of ~5 ms", times, n, serial)
        if "overhead" in cases:
            n = 20_000 if args.quick else 200_000
            t = time.perf_counter()
            expect = [triv(x) for x in range(n)]
            per = (time.perf_counter() - t) / n
            times = measure(contenders(client, triv, triv_box, (), n, chunk_size(per)),
                            expect, repeat)
            report(f"overhead: {n:,} trivial items", times, n, None)
    finally:
        client.close()
        cluster.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
