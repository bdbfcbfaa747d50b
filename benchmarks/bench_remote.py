"""Benchmark: local versus remote (loopback) versus mixed workers.

ITEMS items of about MS milliseconds of pure-Python CPU work each go through
one IMap with:

* ``local``: ``worker_num=LOCAL`` worker processes;
* ``remote``: ``worker_num=0`` and REMOTE slots on a ``papy worker`` server on
  127.0.0.1 (forking mode: one server process per slot);
* ``mixed``: both at once, pooled under one stride/buffer.

The work is a fixed loop calibrated once in this process to take MS ms, so
every configuration does the same work.  Wall time from ``start()`` returning
(workers started and connected) to the last result, best of ``--repeat``
runs.  The server is started here as a subprocess and stopped at the end.
Usage::

    python benchmarks/bench_remote.py [--items 400] [--ms 5] [--local 2]
        [--remote 2] [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from papy_engine import IMap


def make_work(loops: int):
    """A closure (shipped by value) spinning ``loops`` iterations."""
    def work(x):
        acc = 0
        for i in range(loops):
            acc += (i * x) & 7
        return acc
    return work


def calibrate(ms: float) -> int:
    loops = 20000
    while True:
        work = make_work(loops)
        t0 = time.perf_counter()
        work(3)
        took = time.perf_counter() - t0
        if took > 0.02:
            return max(1, int(loops * ms / 1000 / took))
        loops *= 2


def start_server(port: int) -> subprocess.Popen:
    papy = str(Path(sys.executable).with_name("papy"))
    proc = subprocess.Popen([papy, "worker", "--port", str(port), "--log-level", "WARNING"],
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("papy worker failed to start")
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("papy worker did not start in 20 s")


def run(work, items: int, local: int, remote: list) -> float:
    m = IMap(work, range(items), worker_num=local, worker_remote=remote or None)
    try:
        m.start()
        t0 = time.perf_counter()
        n = sum(1 for _ in m)
        took = time.perf_counter() - t0
    finally:
        m.stop()
    assert n == items
    return took


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=400)
    ap.add_argument("--ms", type=float, default=5.0)
    ap.add_argument("--local", type=int, default=2)
    ap.add_argument("--remote", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    args = ap.parse_args(argv)
    port = args.port
    if not port:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    work = make_work(calibrate(args.ms))
    server = start_server(port)
    address = [(f"127.0.0.1:{port}", args.remote)]
    configs = [("local", args.local, []), ("remote", 0, address),
               ("mixed", args.local, address)]
    best = {}
    try:
        for _ in range(args.repeat):
            for name, local, remote in configs:
                t = run(work, args.items, local, remote)
                best[name] = min(best.get(name, t), t)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)
    print(f"{args.items} items x {args.ms:g} ms CPU; {os.cpu_count()} CPU(s); "
          f"best of {args.repeat}")
    print(f"{'pool':<28}{'seconds':>9}{'items/s':>10}{'vs local':>10}")
    labels = {"local": f"local ({args.local} process{'es' if args.local != 1 else ''})",
              "remote": f"remote ({args.remote} on loopback)",
              "mixed": f"mixed ({args.local}+{args.remote})"}
    for name, _, _ in configs:
        t = best[name]
        print(f"{labels[name]:<28}{t:>9.3f}{args.items / t:>10.0f}{best['local'] / t:>9.2f}x")
    print(f"remote/local throughput: {best['local'] / best['remote']:.2f} (target >= 0.90); "
          f"mixed vs best single kind: {min(best['local'], best['remote']) / best['mixed']:.2f}x "
          f"(target >= 1.8x where cores allow)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
