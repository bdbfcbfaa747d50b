"""Engine benchmarks: PaPy side by side with multiprocessing.Pool, in one run.

    python benchmarks/bench_engine.py             # every workload (~6 minutes)
    python benchmarks/bench_engine.py --quick     # smaller inputs, a smoke run
    python benchmarks/bench_engine.py --case w1 --case w3 --runs 5

Every measurement runs in a fresh interpreter, so each contender pays its own
pool start and shutdown, as a user's script would; contenders take turns, run
after run, so that the machine's noise spreads over all of them.  Each figure
is the median of ``--runs`` runs (min-max beside it); ratios are medians over
the reference row.  Workloads (2 worker processes everywhere):

  w1       200,000 small ints, f(x) = x*x + 1 in one parallel step, then a serial
           sink that folds every result in order (also with Plumber.peek's
           recording switched off: what peeking costs)
  w2       100,000 items through 4 cheap steps (+1, *2, -3, str) on one pool,
           then the sink
  w3       400 items of ~5 ms pure-Python CPU: speedup over a serial loop
  w5       1,000,000 items of 1 KiB from a generator, identity in parallel, a
           slow serial sink (~12 us/item): time over the sink alone, peak memory
           of the process tree, how far the input runs ahead
  startup  a 2-worker pool started from a process that already runs a thread,
           to its first result
"""
from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORKERS = 2
MOD = 1_000_000_007
SINK_S = 12e-6


# -- workloads (module level: every pool pickles them by reference) -------------------
def square(x):
    return x * x + 1


def square_box(inbox):
    return inbox[0] * inbox[0] + 1


def plus1(inbox):
    return inbox[0] + 1


def times2(inbox):
    return inbox[0] * 2


def minus3(inbox):
    return inbox[0] - 3


def to_str(inbox):
    return str(inbox[0])


def p1(x):
    return x + 1


def t2(x):
    return x * 2


def m3(x):
    return x - 3


def fused4(x):
    return str((x + 1) * 2 - 3)


CPU_LOOPS = int(os.environ.get("PAPY_BENCH_CPU_LOOPS", "0")) or 0


def cpu(x):
    acc = 0
    for i in range(CPU_LOOPS):
        acc = (acc * 31 + i + x) % 1000003
    return acc


def cpu_box(inbox):
    return cpu(inbox[0])


def kib(x):
    return bytes(1024)


def ident_box(inbox):
    return inbox[0]


def _calibrate(target_s=0.005) -> int:
    global CPU_LOOPS
    CPU_LOOPS = 20000
    best = min(_timed(cpu, 0) for _ in range(5))
    return max(1000, int(CPU_LOOPS * target_s / best))


def _timed(f, x) -> float:
    t = time.perf_counter()
    f(x)
    return time.perf_counter() - t


class Fold:
    """A serial sink: folds every result, in order, into one number."""

    def __init__(self):
        self.acc = 0
        self.n = 0

    def add(self, r):
        self.acc = (self.acc * 31 + (r if r.__class__ is int else len(r))) % MOD
        self.n += 1

    def box(self, inbox):
        """The same fold as a piper's function (an inbox in): one Python call per
        item, as ``add`` is one per item in the ``Pool.imap`` loops."""
        r = inbox[0]
        self.acc = (self.acc * 31 + (r if r.__class__ is int else len(r))) % MOD
        self.n += 1


def slow_sink(r, state={"n": 0}):
    state["n"] += 1
    t = time.perf_counter() + SINK_S
    while time.perf_counter() < t:
        pass


# -- one measurement, in a child interpreter ------------------------------------------
def _pool(chunk_fork: str = "fork"):
    import multiprocessing as mp
    return mp.get_context(chunk_fork).Pool(WORKERS)


def _plumber(steps, data, sink=None, fuse=True):
    from papy_engine import IMap, Piper, Plumber
    pool = IMap(worker_num=WORKERS)
    pipers = [Piper(f, parallel=pool, name=f"step{i}") for i, f in enumerate(steps)]
    if sink is not None:
        pipers.append(Piper(sink, name="sink"))
    p = Plumber(fuse=fuse)
    if len(pipers) == 1:
        p.add_piper(pipers[0])
    else:
        p.add_pipe(pipers)
    p.start([data])
    p.run()
    assert p.wait(3600) and p.state == "finished", p.state
    return p


def w1(impl: str, n: int, chunk: int) -> dict:
    fold = Fold()
    if impl == "Pool.imap":
        with _pool() as pool:
            for r in pool.imap(square, range(n), chunk):
                fold.add(r)
    elif impl == "IMap":
        from papy_engine import IMap
        for r in IMap(square, range(n), worker_num=WORKERS):
            fold.add(r)
    elif impl == "Plumber":
        _plumber([square_box], range(n), fold.box)
    return {"check": fold.acc, "count": fold.n}


def w2(impl: str, n: int, chunk: int) -> dict:
    fold = Fold()
    if impl == "nested Pool.imap":
        with _pool() as pool:
            it = range(n)
            for f in (p1, t2, m3, str):
                it = pool.imap(f, it, chunk)
            for r in it:
                fold.add(r)
    elif impl == "fused Pool.imap":
        with _pool() as pool:
            for r in pool.imap(fused4, range(n), chunk):
                fold.add(r)
    elif impl in ("Plumber", "Plumber, fusion off"):
        _plumber([plus1, times2, minus3, to_str], range(n), fold.box,
                 fuse=impl == "Plumber")
    return {"check": fold.acc, "count": fold.n}


def w3(impl: str, n: int, chunk: int) -> dict:
    fold = Fold()
    if impl == "serial":
        for x in range(n):
            fold.add(cpu(x))
    elif impl == "Pool.imap":
        with _pool() as pool:
            for r in pool.imap(cpu, range(n), chunk):
                fold.add(r)
    elif impl == "IMap":
        from papy_engine import IMap
        for r in IMap(cpu, range(n), worker_num=WORKERS):
            fold.add(r)
    elif impl == "Plumber":
        _plumber([cpu_box], range(n), fold.box)
    return {"check": fold.acc, "count": fold.n}


def w5(impl: str, n: int, chunk: int) -> dict:
    """Peak memory is sampled by the parent (:class:`TreeMeter`), not in here:
    a meter thread in this process would hold its GIL ~2 ms per sample of a
    three-process tree, against 0.2 ms for the sink alone's one process."""
    pulled, consumed, ahead = [0], [0], [0]

    def source():
        for i in range(n):
            pulled[0] = i + 1
            yield i

    def sink(r):
        consumed[0] += 1
        if pulled[0] - consumed[0] > ahead[0]:
            ahead[0] = pulled[0] - consumed[0]
        slow_sink(r)

    if impl == "the sink alone":
        for i in source():
            sink(kib(i))
    elif impl == "Pool.imap":
        with _pool() as pool:
            for r in pool.imap(kib, source(), chunk):
                sink(r)
    elif impl == "Plumber":
        _plumber([lambda inbox: bytes(1024)], source(), lambda inbox: sink(inbox[0]))
    return {"count": consumed[0], "ahead": ahead[0]}


def startup(impl: str, n: int, chunk: int) -> dict:
    """Time to the first result of a new pool, in a process that runs a thread.

    ``IMap, 2nd pool`` is the steady state of an editor: a pool started after
    an earlier one (other settings, so no warm worker is reused) in the same
    process, the fork server already up.
    """
    stop = threading.Event()
    threading.Thread(target=stop.wait, daemon=True).start()   # the process has threads
    if impl == "IMap, 2nd pool":
        from papy_engine import IMap
        list(IMap(square, [1], worker_num=1))
    t0 = time.perf_counter()
    if impl == "Pool (fork)":
        pool = _pool("fork")
        pool.apply(square, (1,))
        first = time.perf_counter() - t0
        pool.terminate()
    else:
        from papy_engine import IMap
        m = IMap(square, [1], worker_num=WORKERS)
        next(iter(m))
        first = time.perf_counter() - t0
        m.stop()
    stop.set()
    return {"first_result_s": first}


WORKLOADS = {"w1": w1, "w2": w2, "w3": w3, "w5": w5, "startup": startup}


def child(workload: str, impl: str, n: int, chunk: int) -> None:
    # What we measure is not import time, on either side: each contender's
    # modules are imported before the clock starts (multiprocessing.pool alone
    # takes ~10 ms; the engine's process pool, imported on a first pool, ~8 ms).
    if impl.startswith(("IMap", "Plumber")):
        import papy_engine.plumber  # noqa: F401
        import papy_engine.pool.process  # noqa: F401
    elif "Pool" in impl:
        import multiprocessing.pool  # noqa: F401
    if impl == "Plumber, no peek":   # what Plumber.peek's recording costs (issue 14)
        import papy_engine.peek
        papy_engine.peek.PeekBuffer.add = lambda self, first, batch: None
        impl = "Plumber"
    t0 = time.perf_counter()
    out = WORKLOADS[workload](impl, n, chunk)
    out["seconds"] = time.perf_counter() - t0
    print(json.dumps(out))


# -- the run --------------------------------------------------------------------------
CONTENDERS = {
    "w1": [("Pool.imap", 1), ("Pool.imap", 64), ("Pool.imap", 1024), ("IMap", 0),
           ("Plumber", 0), ("Plumber, no peek", 0)],
    "w2": [("nested Pool.imap", 1024), ("fused Pool.imap", 1024), ("Plumber", 0),
           ("Plumber, fusion off", 0)],
    "w3": [("serial", 0), ("Pool.imap", 1), ("IMap", 0), ("Plumber", 0)],
    "w5": [("the sink alone", 0), ("Pool.imap", 64), ("Plumber", 0)],
    "startup": [("Pool (fork)", 0), ("IMap", 0), ("IMap, 2nd pool", 0)],
}
SIZES = {"w1": 200_000, "w2": 100_000, "w3": 400, "w5": 1_000_000, "startup": 1}


class TreeMeter:
    """Peak RSS and PSS of a process and all its descendants, sampled every 50 ms
    from this (the parent) process, so that metering costs the measured
    process nothing."""

    def __init__(self, pid: int) -> None:
        import psutil
        self._root = psutil.Process(pid)
        self._error = psutil.Error
        self.rss = self.pss = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while True:
            try:
                procs = [self._root] + self._root.children(recursive=True)
            except self._error:
                return
            rss = pss = 0
            for proc in procs:
                try:
                    info = proc.memory_full_info()
                    rss, pss = rss + info.rss, pss + info.pss
                except self._error:
                    pass
            self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)
            if self._done.wait(0.05):
                return

    def stop(self) -> dict:
        self._done.set()
        self._thread.join()
        return {"rss_mib": round(self.rss / 2**20, 1), "pss_mib": round(self.pss / 2**20, 1)}


def _run(workload, impl, n, chunk, loops) -> dict:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               PAPY_BENCH_CPU_LOOPS=str(loops))
    cmd = [sys.executable, os.path.abspath(__file__), "--child", workload, impl, str(n),
           str(chunk)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    meter = TreeMeter(proc.pid) if workload == "w5" else None
    try:
        out, err = proc.communicate(timeout=3600)
    finally:
        proc.kill()
        memory = meter.stop() if meter else {}
    if proc.returncode:
        raise SystemExit(f"{workload}/{impl} failed:\n{err}")
    return json.loads(out.strip().splitlines()[-1]) | memory


def measure(workload: str, n: int, runs: int, loops: int) -> dict[str, list[dict]]:
    """Every contender ``runs`` times, taking turns; {label: [result, ...]}."""
    got: dict[str, list[dict]] = {}
    for _ in range(runs):
        for impl, chunk in CONTENDERS[workload]:
            label = impl + (f" cs={chunk}" if chunk else "")
            got.setdefault(label, []).append(_run(workload, impl, n, chunk, loops))
    checks = {r.get("check") for rs in got.values() for r in rs} - {None}
    if len(checks) > 1:
        raise SystemExit(f"{workload}: contenders disagree on the result: {checks}")
    return got


def _med(rs, key):
    vals = [r[key] for r in rs]
    return statistics.median(vals), min(vals), max(vals)


def report(workload: str, n: int, got: dict[str, list[dict]]) -> list[str]:
    lines = [f"\n== {workload} ({n:,} items)"]
    if workload in ("w1", "w2"):
        ref_label = ("fused Pool.imap cs=1024" if workload == "w2" else
                     min((k for k in got if k.startswith("Pool.imap")),
                         key=lambda k: _med(got[k], "seconds")[0]))
        ref = _med(got[ref_label], "seconds")[0]
        for label, rs in got.items():
            m, lo, hi = _med(rs, "seconds")
            lines.append(f"  {label:<28} {m / n * 1e6:7.3f} us/item  ({lo / n * 1e6:.3f}-"
                         f"{hi / n * 1e6:.3f})  {m / ref:5.2f}x {ref_label}")
    elif workload == "w3":
        serial = _med(got["serial"], "seconds")[0]
        pool = serial / _med(got["Pool.imap cs=1"], "seconds")[0]
        for label, rs in got.items():
            m, lo, hi = _med(rs, "seconds")
            lines.append(f"  {label:<28} {serial / m:5.2f}x over serial ({serial / hi:.2f}-"
                         f"{serial / lo:.2f})  {serial / m / pool:5.2f}x Pool.imap's speedup")
    elif workload == "w5":
        alone = _med(got["the sink alone"], "seconds")[0]
        for label, rs in got.items():
            m, lo, hi = _med(rs, "seconds")
            lines.append(f"  {label:<28} {m / alone:5.2f}x the sink alone ({lo / alone:.2f}-"
                         f"{hi / alone:.2f})  peak RSS {_med(rs, 'rss_mib')[0]:6.1f} MiB, "
                         f"PSS {_med(rs, 'pss_mib')[0]:6.1f} MiB, ahead "
                         f"{int(_med(rs, 'ahead')[0]):,}")
    else:
        pool = _med(got["Pool (fork)"], "first_result_s")[0]
        for label, rs in got.items():
            m, lo, hi = _med(rs, "first_result_s")
            lines.append(f"  {label:<28} {m:6.3f} s to the first result ({lo:.3f}-{hi:.3f})"
                         f"  {m / pool:5.1f}x Pool (fork)")
    return lines


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--case", action="append", choices=list(CONTENDERS))
    ap.add_argument("--quick", action="store_true", help="inputs 10x smaller, 2 runs")
    ap.add_argument("--runs", type=int, default=3, help="runs per contender (median)")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        workload, impl, n, chunk = args.child
        child(workload, impl, int(n), int(chunk))
        return
    runs = 2 if args.quick else args.runs
    loops = _calibrate()
    # An installed engine has its bytecode; a source tree run with
    # PYTHONDONTWRITEBYTECODE would compile the modules a run imports lazily,
    # in every child, inside the timed span (Pool's stdlib modules are compiled).
    compileall.compile_dir(os.path.join(ROOT, "papy_engine"), quiet=1)
    print(f"PaPy engine benchmarks: {WORKERS} workers, {os.cpu_count()} CPUs, Python "
          f"{sys.version.split()[0]}, median of {runs} runs (min-max), fresh interpreters")
    for workload in args.case or list(CONTENDERS):
        n = SIZES[workload] // (10 if args.quick and workload != "startup" else 1)
        for line in report(workload, n, measure(workload, n, runs, loops)):
            print(line, flush=True)


if __name__ == "__main__":
    main()
