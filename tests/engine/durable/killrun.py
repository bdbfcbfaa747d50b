"""Run a pipeline script with ``papy run --results`` in its own process group, kill -9 it.

Owns the harness of the kill tests: :func:`render` writes a generated case
(tests/engine/semantics) as a script whose input pipers sleep a little per
item, so that a kill lands in the middle of a run; :class:`Attempt` runs
``papy run SCRIPT --results DIR --resume`` in a new session (process group),
waits for a moment chosen by progress -- never a blind sleep -- and kills
the whole group (driver and workers) with SIGKILL; :func:`records` reads a
results folder into comparable form; :data:`FIGURES` counts what happened,
for the summary the conftest prints.
"""
from __future__ import annotations

import base64
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from helpers import ROOT, wait_until

SEMANTICS = ROOT / "tests" / "engine" / "semantics"
if str(SEMANTICS) not in sys.path:
    sys.path.insert(0, str(SEMANTICS))

import reference as ref  # noqa: E402

PAPY = [sys.executable, "-m", "papy_engine.cli", "run"]
FIGURES: Counter = Counter()
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(
    [str(SEMANTICS), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))


def render(case, delay: float) -> str:
    """A pipeline script for ``case``; every input piper sleeps ``delay`` s per item."""
    spec = case.spec
    funcs = sorted({f.func.__name__ for p in spec.pipers for f in p.fns})
    lines = ["import time", "", "from papy_engine import IMap, Piper, Plumber, Worker",
             f"from pipeline_funcs import {', '.join(funcs)}", "", "",
             "def pace(inbox, delay):", "    time.sleep(delay)", "    return inbox[0]", "", "",
             "def pipeline():"]
    for k, pool in enumerate(case.pools):
        code = pool.code()[:-1] + f", name='pool{k}')"
        lines.append(f"    pool{k} = {code}")
    inputs = ref.inputs(spec)
    for p in spec.pipers:
        paced = p.name in inputs  # pace returns inbox[0]: the next function sees the inbox
        names = ["pace"] * paced + [f.func.__name__ for f in p.fns]
        args = [(delay,)] * paced + [f.args for f in p.fns]
        kwargs = [{}] * paced + [f.kwargs for f in p.fns]
        worker = f"Worker(({', '.join(names)},), {tuple(args)!r}, {tuple(kwargs)!r})"
        opts = [worker, f"name={p.name!r}"]
        if p.name in case.parallel:
            opts.append(f"parallel=pool{case.parallel[p.name]}")
        for key, default in (("consume", 1), ("produce", 1), ("spawn", 1), ("repeat", False),
                             ("ordered", True), ("branch", None)):
            if getattr(p, key) != default:
                opts.append(f"{key}={getattr(p, key)!r}")
        lines.append(f"    {p.name} = Piper({', '.join(opts)})")
    stride = "" if case.stride is None else f"stride={case.stride}"
    lines.append(f"    plumber = Plumber({stride})")
    for step in spec.build:
        lines.append(f"    plumber.add_piper({step[0]})" if len(step) == 1
                     else f"    plumber.add_pipe(({', '.join(step)},))")
    lines += ["    return plumber", "", "",
              f"INPUTS = [{', '.join(_range(d) for d in spec.inputs)}]", ""]
    return "\n".join(lines)


def _range(data: list) -> str:
    return f"range({data[0]}, {data[0] + len(data)})" if data else "range(0)"


def result_lines(out: Path) -> int:
    """Records written so far (whole lines in the result files)."""
    n = 0
    for f in out.glob("*.jsonl"):
        try:
            n += f.read_bytes().count(b"\n")
        except OSError:
            pass
    return n


class Attempt:
    """One ``papy run ... --resume`` in its own process group."""

    def __init__(self, script: Path, out: Path) -> None:
        self.proc = subprocess.Popen(PAPY + [str(script), "--results", str(out), "--resume",
                                             "--quiet"], env=ENV, start_new_session=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        FIGURES["runs"] += 1

    def kill_when(self, ready, timeout: float = 60.0) -> bool:
        """SIGKILL the whole group once ``ready()`` holds; False if the run ended first."""
        deadline = time.monotonic() + timeout
        while not ready():
            if self.proc.poll() is not None:
                return False
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"no progress within {timeout} s")
            time.sleep(0.002)
        self.kill()
        return True

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(30)
        self.proc.stderr.close()
        assert wait_until(lambda: not _group_alive(self.proc.pid), 30), \
            f"processes of group {self.proc.pid} outlived SIGKILL"
        FIGURES["kills"] += 1

    def finish(self, timeout: float = 120.0) -> tuple[int, str]:
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"the run did not end within {timeout} s") from None
        assert wait_until(lambda: not _group_alive(self.proc.pid), 30)
        return self.proc.returncode, err.decode(errors="replace")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_through(script: Path, out: Path) -> tuple[int, str]:
    """An uninterrupted ``papy run --results`` (into a fresh folder)."""
    FIGURES["runs"] += 1
    proc = subprocess.run(PAPY + [str(script), "--results", str(out), "--quiet"], env=ENV,
                          capture_output=True, timeout=120)
    return proc.returncode, proc.stderr.decode(errors="replace")


def _value(rec: dict):
    if "v" in rec:
        return ("v", json.dumps(rec["v"], sort_keys=True))
    if "pickle" in rec:
        return ("p", repr(pickle.loads(base64.b64decode(rec["pickle"]))))
    err = rec["error"]
    return ("error", err["kind"], err["exc_type"], err["message"], err["function"],
            err["piper"], err["index"])


def records(out: Path) -> dict[str, object]:
    """``{file: comparable content}``: a list in ``i`` order for ordered outputs, a
    multiset of ``(e, value)`` for loose ones; the ``i`` numbering is checked."""
    header = json.loads((out / ".papy-journal").read_text().split("\n")[0].rsplit("\t", 1)[0])
    loose = set(header["shape"]["loose"])
    got: dict[str, object] = {}
    for piper, name in header["files"].items():
        recs = [json.loads(line) for line in (out / name).read_text().splitlines()]
        assert [r["i"] for r in recs] == list(range(len(recs))), f"{name}: i is not 0..n-1"
        if piper in loose:
            got[name] = Counter((r["e"], _value(r)) for r in recs)
        else:
            got[name] = [_value(r) for r in recs]
    return got


def leftovers(out: Path) -> list[str]:
    """Files a finished run should not leave: a lock, temp files."""
    return sorted(p.name for p in out.iterdir()
                  if p.name == ".papy-lock" or p.name.endswith(".tmp"))
