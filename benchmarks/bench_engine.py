"""Engine benchmarks: PaPy side by side with its peers, on the same workloads.

    python benchmarks/bench_engine.py            # everything (~2-3 minutes)
    python benchmarks/bench_engine.py --quick    # smaller inputs, a smoke run
    python benchmarks/bench_engine.py --case overhead --case cpu

Every measurement runs in a fresh interpreter, so each contender pays its own
pool start and shutdown exactly once, as a user's script would.  Workloads
(2 worker processes everywhere):

  overhead  200,000 trivial items through one parallel step
  chain     100,000 items through 4 parallel steps (PaPy: 4 pipers on 1 IMap)
  cpu       400 items of ~5 ms pure-Python work: speedup over a serial loop
  memory    2,000,000 items of 1 KiB from a generator, slow consumer: peak RSS
            of the process tree and how far the input runs ahead

Ratios are against the row marked "ref" of each table.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORKERS = 2


# -- workloads (module level, so every pool can pickle them by reference) --------
def triv(x):
    return x + 1


def triv_box(inbox):
    return inbox[0] + 1


def cpu(x):
    n = 0
    for i in range(CPU_LOOPS):
        n += i * i % 7
    return n


def cpu_box(inbox):
    return cpu(inbox[0])


def kib(x):
    return b"x" * 1024


def kib_box(inbox):
    return b"x" * 1024


def fused(x):
    return triv(triv(triv(triv(x))))


CPU_LOOPS = int(os.environ.get("PAPY_BENCH_CPU_LOOPS", "0")) or 0


def _calibrate(target_s=0.005) -> int:
    global CPU_LOOPS
    CPU_LOOPS = 10000
    t = time.perf_counter()
    cpu(0)
    dt = time.perf_counter() - t
    return max(1000, int(CPU_LOOPS * target_s / dt))


# -- single measurements (run in a child interpreter) --------------------------
def _plumber_chain(func, n_pipers, data, consume=None, after_start=None):
    from papy_engine import IMap, Piper, Plumber
    imap = IMap(worker_num=WORKERS)
    pipers = [Piper(func, parallel=imap) for _ in range(n_pipers)]
    p = Plumber()
    if n_pipers == 1:
        p.add_piper(pipers[0])
    else:
        p.add_pipe(pipers)
    if consume is not None:  # the slow consumer is a serial piper at the end
        sink = Piper(lambda inbox: consume(inbox[0]), name="consumer")
        p.add_pipe((pipers[-1], sink))
        pipers.append(sink)
    p.start([data])
    if after_start:
        after_start()
    p.run()
    p.wait()
    return p.stats["pipers"][pipers[-1].name]["out"]


def measure(case: str, impl: str, n: int, chunk: int | None) -> dict:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    # imports are not what we measure: load each contender's modules first
    import multiprocessing.pool  # noqa: F401
    if impl in ("papy", "papy-nopeek"):
        import papy_engine.imap  # noqa: F401  (dill)
        import papy_engine.plumber  # noqa: F401  (networkx)
        if impl == "papy-nopeek":  # what Plumber.peek's recording costs
            import papy_engine.peek
            papy_engine.peek.PeekBuffer.add = lambda self, first, batch: None
            impl = "papy"
    elif impl == "mpire":
        import mpire  # noqa: F401
    t0 = time.perf_counter()
    extra: dict = {}
    if case in ("overhead", "chain", "cpu"):
        steps = 4 if case == "chain" else 1
        f, fbox = (cpu, cpu_box) if case == "cpu" else (triv, triv_box)
        if impl == "serial":
            res = range(n)
            for _ in range(steps):
                res = [f(x) for x in res]
            count = len(res)
        elif impl == "fused":
            count = sum(1 for _ in mp.get_context("fork").Pool(WORKERS).imap(fused, range(n), chunk))
        elif impl == "Pool.imap":
            with mp.get_context("fork").Pool(WORKERS) as pool:
                it = range(n)
                for _ in range(steps):
                    it = pool.imap(f, it, chunk)
                count = sum(1 for _ in it)
        elif impl == "ProcessPoolExecutor":
            with ProcessPoolExecutor(WORKERS, mp_context=mp.get_context("fork")) as ex:
                it = range(n)
                for _ in range(steps):
                    it = ex.map(f, it, chunksize=chunk or 1)
                count = sum(1 for _ in it)
        elif impl == "mpire":
            from mpire import WorkerPool
            with WorkerPool(WORKERS, start_method="fork") as pool:
                it = range(n)
                for _ in range(steps):
                    it = pool.imap(f, it, chunk_size=chunk, progress_bar=False)
                count = sum(1 for _ in it)
        elif impl == "papy":
            count = _plumber_chain(fbox, steps, range(n))
        else:
            raise SystemExit(f"unknown impl {impl}")
    elif case == "memory":
        import threading

        import psutil
        pulled = [0]
        peak = [0]
        done = threading.Event()

        def source():
            for i in range(n):
                pulled[0] = i + 1
                yield i

        def tree_pss():
            # PSS splits shared pages between the processes that map them, so
            # forked workers are not charged for their parent's pages twice.
            me = psutil.Process()
            total = 0
            for proc in [me] + me.children(recursive=True):
                try:
                    total += proc.memory_full_info().pss
                except psutil.Error:
                    pass
            return total

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], tree_pss())
                done.wait(0.1)
        ahead = [0]
        consumed = [0]

        def consume(item):
            consumed[0] += 1
            ahead[0] = max(ahead[0], pulled[0] - consumed[0])
            t = time.perf_counter() + CONSUMER_S
            while time.perf_counter() < t:
                pass
        # the sampler starts once the pool runs: forking a process that
        # already has threads is what PaPy avoids (it would spawn instead)
        sampler = threading.Thread(target=sample, daemon=True).start
        if impl == "consumer alone":
            sampler()
            for i in source():
                consume(kib(i))
            count = consumed[0]
        elif impl == "Pool.imap":
            with mp.get_context("fork").Pool(WORKERS) as pool:
                sampler()
                for r in pool.imap(kib, source(), chunk or 1):
                    consume(r)
            count = consumed[0]
        elif impl == "papy":
            count = _plumber_chain(kib_box, 1, source(), consume=consume, after_start=sampler)
        else:
            raise SystemExit(f"unknown impl {impl}")
        done.set()
        peak[0] = max(peak[0], tree_pss())
        extra = {"peak_mib": round(peak[0] / 2**20, 1), "ahead": ahead[0]}
    dt = time.perf_counter() - t0
    return {"case": case, "impl": impl, "n": n, "chunk": chunk, "count": count,
            "seconds": dt, "us_per_item": dt / n * 1e6, **extra}


CONSUMER_S = 2e-6


REPEAT = 3


def run_child(case, impl, n, chunk=None, loops=0) -> dict:
    """Best of REPEAT runs, each in a fresh interpreter (the machine is shared)."""
    runs = [_run_child(case, impl, n, chunk, loops) for _ in range(REPEAT)]
    return min(runs, key=lambda r: r["seconds"])


def _run_child(case, impl, n, chunk=None, loops=0) -> dict:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               PAPY_BENCH_CPU_LOOPS=str(loops))
    cmd = [sys.executable, os.path.abspath(__file__), "--child", case, impl, str(n),
           str(chunk or 0)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if out.returncode:
        raise SystemExit(f"{case}/{impl} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(title, rows, ref, key="us_per_item", unit="us/item", better="lower"):
    print(f"\n{title}")
    base = next(r for r in rows if r["label"] == ref)[key]
    print(f"  {'contender':34s} {unit:>12s} {'ratio vs ' + ref:>24s}")
    for r in rows:
        v = r[key]
        ratio = v / base if better == "lower" else base / v
        extra = "".join(f"  {k}={r[k]}" for k in ("peak_mib", "ahead") if k in r)
        print(f"  {r['label']:34s} {v:12.3f} {ratio:23.2f}x{extra}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", action="append", choices=["overhead", "chain", "cpu", "memory"])
    ap.add_argument("--quick", action="store_true", help="inputs 10x smaller, one run each")
    ap.add_argument("--repeat", type=int, default=3, help="runs per contender; the best counts")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        case, impl, n, chunk = args.child
        global CPU_LOOPS
        CPU_LOOPS = int(os.environ.get("PAPY_BENCH_CPU_LOOPS", "0")) or _calibrate()
        print(json.dumps(measure(case, impl, int(n), int(chunk) or None)))
        return
    cases = args.case or ["overhead", "chain", "cpu", "memory"]
    q = 10 if args.quick else 1
    global REPEAT
    REPEAT = 1 if args.quick else max(1, args.repeat)
    print(f"PaPy engine benchmarks: {WORKERS} workers, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}, best of {REPEAT} runs each")
    if "overhead" in cases:
        n = 200_000 // q
        rows = []
        for impl, chunk, label in [("serial", None, "serial loop"),
                                   ("Pool.imap", 1, "Pool.imap chunksize=1"),
                                   ("Pool.imap", 256, "Pool.imap chunksize=256"),
                                   ("Pool.imap", 1024, "Pool.imap chunksize=1024"),
                                   ("Pool.imap", 4096, "Pool.imap chunksize=4096"),
                                   ("ProcessPoolExecutor", 1024, "ProcessPoolExecutor chunk=1024"),
                                   ("mpire", None, "mpire (auto chunks)"),
                                   ("papy", None, "papy Plumber, 1 piper")]:
            r = run_child("overhead", impl, n if chunk != 1 else n // 4, chunk)
            r["label"] = label
            rows.append(r)
        best = min((r for r in rows if r["impl"] == "Pool.imap"), key=lambda r: r["us_per_item"])
        best = dict(best, label="ref: Pool.imap best chunksize")
        rows.append(best)
        table(f"(a) overhead: {n:,} trivial items, per-item time incl. pool start", rows,
              "ref: Pool.imap best chunksize")
    if "chain" in cases:
        n = 100_000 // q
        rows = []
        for impl, chunk, label in [("serial", None, "serial loop x4"),
                                   ("Pool.imap", 1024, "ref: nested Pool.imap chunksize=1024"),
                                   ("fused", 1024, "fused into one function (Pool.imap)"),
                                   ("papy", None, "papy: 4 pipers sharing one IMap"),
                                   ("papy-nopeek", None, "  the same without peek recording")]:
            r = run_child("chain", impl, n, chunk)
            r["label"] = label
            rows.append(r)
        table(f"(b) chain: {n:,} items through 4 parallel steps", rows,
              "ref: nested Pool.imap chunksize=1024")
    if "cpu" in cases:
        n = 400 // (2 if args.quick else 1)
        loops = _calibrate()
        rows = []
        for impl, chunk, label in [("serial", None, "ref: serial loop"),
                                   ("Pool.imap", 1, "Pool.imap chunksize=1"),
                                   ("ProcessPoolExecutor", 1, "ProcessPoolExecutor.map"),
                                   ("mpire", None, "mpire"),
                                   ("papy", None, "papy Plumber, 1 piper")]:
            r = run_child("cpu", impl, n, chunk, loops)
            r["label"] = label
            rows.append(r)
        table(f"(c) CPU: {n} items of ~5 ms, speedup over serial (higher is better)", rows,
              "ref: serial loop", key="seconds", unit="seconds", better="higher")
    if "memory" in cases:
        n = 2_000_000 // q
        rows = []
        for impl, chunk, label in [("consumer alone", None, "ref: the consumer alone"),
                                   ("Pool.imap", 1024, "Pool.imap chunksize=1024"),
                                   ("papy", None, "papy Plumber, 1 piper")]:
            r = run_child("memory", impl, n, chunk)
            r["label"] = label
            rows.append(r)
        table(f"(d) memory: {n:,} items of 1 KiB, slow consumer (~{CONSUMER_S * 1e6:.0f} us/item)",
              rows, "ref: the consumer alone")


if __name__ == "__main__":
    main()
