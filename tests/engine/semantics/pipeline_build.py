"""Turn a generated case into engine objects, run it, and compare with the reference.

Owns :class:`Case` (a :class:`reference.PipelineSpec` plus how the engine
runs it: pools, which piper uses which pool, the Plumber's stride), its
``repr`` as the lines of code that rebuild it with the public API (what
Hypothesis prints for a failing example), and :func:`mismatches`, the list of
differences between a finished run and the reference.
"""
from __future__ import annotations

import multiprocessing
from dataclasses import dataclass, field

import reference as ref
from helpers import wait_until
from papy_engine import IMap, Piper, Plumber, Worker

TERMINAL = ("finished", "stopped", "failed")
#: what pools of kind "dask" run on (a Client): the Dask tests set it
DASK = None


@dataclass
class PoolSpec:
    kind: str = "thread"
    workers: int = 1
    stride: int | None = None
    buffer: int | None = None
    ordered: bool = True

    def code(self) -> str:
        opts = (["worker_num=0", "dask=client"] if self.kind == "dask" else
                [f"worker_num={self.workers}", f"worker_type={self.kind!r}"])
        opts += [f"{k}={getattr(self, k)!r}" for k in ("stride", "buffer")
                 if getattr(self, k) is not None]
        opts += [] if self.ordered else ["ordered=False"]
        return f"IMap({', '.join(opts)})"


@dataclass
class Case:
    """A pipeline and the engine settings it runs with."""
    spec: ref.PipelineSpec
    pools: list[PoolSpec] = field(default_factory=list)
    parallel: dict[str, int] = field(default_factory=dict)  # piper -> pool index
    stride: int | None = None

    def __repr__(self) -> str:
        lines = [f"pools = [{', '.join(p.code() for p in self.pools)}]"]
        lines += [f"{p.name} = {self._piper_code(p)}" for p in self.spec.pipers]
        stride = "" if self.stride is None else f"stride={self.stride}"
        lines.append(f"plumber = Plumber({stride})")
        for step in self.spec.build:
            lines.append(f"plumber.add_piper({step[0]})" if len(step) == 1
                         else f"plumber.add_pipe(({', '.join(step)}))")
        datas = ", ".join(_data_code(d) for d in self.spec.inputs)
        lines.append(f"plumber.start([{datas}])  # inputs {ref.inputs(self.spec)}")
        return "\n" + "\n".join(lines)

    def _repr_pretty_(self, printer, cycle) -> None:  # what Hypothesis prints
        printer.text(repr(self))

    def _piper_code(self, p: ref.PiperSpec) -> str:
        fns = p.fns
        if len(fns) == 1:
            worker = f"Worker({fns[0].func.__name__}, {fns[0].args!r}, {fns[0].kwargs!r})"
        else:
            worker = (f"Worker(({', '.join(f.func.__name__ for f in fns)}), "
                      f"{tuple(f.args for f in fns)!r}, {tuple(f.kwargs for f in fns)!r})")
        opts = [worker]
        if p.name in self.parallel:
            opts.append(f"parallel=pools[{self.parallel[p.name]}]")
        for key, default in (("consume", 1), ("produce", 1), ("spawn", 1), ("repeat", False),
                             ("ordered", True), ("branch", None)):
            if getattr(p, key) != default:
                opts.append(f"{key}={getattr(p, key)!r}")
        opts.append(f"name={p.name!r}")
        if p.name in ref.outputs(self.spec):
            opts.append("track=True")
        return f"Piper({', '.join(opts)})"


def _data_code(data: list) -> str:
    if data and data == list(range(data[0], data[0] + len(data))):
        return f"range({data[0]}, {data[0] + len(data)})"
    return repr(data)


def build(case: Case) -> Plumber:
    """The Plumber the case describes (outputs tracked), built step by step."""
    imaps = [IMap(worker_num=0, dask=DASK, stride=p.stride, buffer=p.buffer,
                  ordered=p.ordered) if p.kind == "dask" else
             IMap(worker_num=p.workers, worker_type=p.kind, stride=p.stride,
                  buffer=p.buffer, ordered=p.ordered) for p in case.pools]
    outs = ref.outputs(case.spec)
    pipers = {}
    for p in case.spec.pipers:
        fns = p.fns
        worker = (Worker(fns[0].func, fns[0].args, fns[0].kwargs) if len(fns) == 1 else
                  Worker(tuple(f.func for f in fns), tuple(f.args for f in fns),
                         tuple(f.kwargs for f in fns)))
        pool = case.parallel.get(p.name)
        pipers[p.name] = Piper(worker, parallel=False if pool is None else imaps[pool],
                               consume=p.consume, produce=p.produce, spawn=p.spawn,
                               repeat=p.repeat, ordered=p.ordered, branch=p.branch,
                               name=p.name, track=p.name in outs)
    plumber = Plumber(stride=case.stride)
    for step in case.spec.build:
        if len(step) == 1:
            plumber.add_piper(pipers[step[0]])
        else:
            plumber.add_pipe(tuple(pipers[n] for n in step))
    return plumber


def finish(plumber: Plumber, timeout: float = 20.0) -> None:
    """Wait for the run to end; a hang is a failure (after trying to stop it)."""
    if not plumber.wait(timeout):
        state = plumber.state
        plumber.stop()
        raise AssertionError(f"run did not end within {timeout} s (state {state!r})")
    assert wait_until(lambda: multiprocessing.active_children() == [], 10), \
        f"worker processes left behind: {multiprocessing.active_children()}"


def mismatches(spec: ref.PipelineSpec, plumber: Plumber) -> list[str]:
    """Every difference between the finished run and the reference on ``spec``."""
    expected = ref.evaluate(spec)
    loose, no_index = ref.loose_pipers(spec)
    results = plumber.results
    stats = plumber.stats["pipers"]
    problems = []
    for name in ref.outputs(spec):
        want = [ref.normalize(x, _keeps_index(x, no_index)) for x in expected[name].out]
        got = [ref.normalize(x, _keeps_index(x, no_index)) for x in results.get(name, [])]
        if name in loose:
            want, got = sorted(want, key=repr), sorted(got, key=repr)
        if got != want:
            problems.append(f"output {name!r}{' (as multiset)' if name in loose else ''}: "
                            + _diff(want, got))
    for name, run in expected.items():
        got_stats = {k: stats[name][k] for k in ("in", "out", "errors")}
        if got_stats != run.stats:
            problems.append(f"stats {name!r}: expected {run.stats}, got {got_stats}")
    return problems


def _keeps_index(item, no_index: set[str]) -> bool:
    return getattr(item, "piper", None) not in no_index


def _diff(want: list, got: list) -> str:
    first = next((i for i, (w, g) in enumerate(zip(want, got)) if w != g),
                 min(len(want), len(got)))
    return (f"{len(want)} items expected, {len(got)} got; first difference at {first}: "
            f"expected {want[first:first + 3]!r}, got {got[first:first + 3]!r}")
