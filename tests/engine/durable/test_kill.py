"""Kill -9 whole runs (driver and workers) at random moments, resume, compare (issue 17).

Each example is a generated pipeline (tests/engine/semantics: fan-in,
fan-out, several inputs of different lengths, produce/spawn/consume,
unordered pipers, failing functions, thread and process pools) written as a
script whose input pipers take a few milliseconds per item.  It runs once
uninterrupted with ``papy run --results ref``; then ``papy run --results out
--resume`` is started in its own process group and the group is killed with
SIGKILL at a moment chosen by progress (at once, when some share of the
results is on disk), one to three times, sometimes tearing the journal's and
a result file's tail as a crash mid-write would; a last ``--resume`` runs to
the end.  The result files must then hold exactly what the uninterrupted run
wrote (in order for ordered outputs, as a multiset for the others), with no
lock or temp file left behind.

Profiles: CI runs a dozen pipelines in about a minute; ``PAPY_SOAK=1`` runs
hundreds.  The figures (runs, kills, mismatches) are printed in the summary.
"""
from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import killrun
from papy_engine.durable import read_journal
from killrun import FIGURES, Attempt, records, render, result_lines, run_through

from pipeline_strategies import cases  # (killrun put tests/engine/semantics on the path)

SOAK = os.environ.get("PAPY_SOAK") == "1"
EXAMPLES = 400 if SOAK else 12
FIGURES.setdefault("mismatches", 0)

pytestmark = pytest.mark.timeout(7200 if SOAK else 240)


@st.composite
def kill_cases(draw):
    case = draw(cases(max_pipers=5, processes=True))
    n = len(case.spec.inputs)
    lengths = draw(st.lists(st.integers(0, 600 if SOAK else 160), min_size=n, max_size=n))
    case.spec.inputs = [list(range(1000 * k, 1000 * k + m)) for k, m in enumerate(lengths)]
    if case.pools and draw(st.booleans()):
        case.pools[0].kind = "process"   # (cases() keeps at most one process pool)
        for p in case.pools[1:]:
            p.kind = "thread"
    delay = draw(st.sampled_from([0.0005, 0.001, 0.002]))
    kills = draw(st.lists(st.tuples(st.sampled_from(["start", "progress", "progress"]),
                                    st.floats(0, 1), st.booleans()), min_size=1, max_size=3))
    return case, delay, kills


@settings(max_examples=EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck), print_blob=True)
@given(kill_cases())
def test_killed_runs_resume_to_the_results_of_an_uninterrupted_run(tmp_path_factory, example):
    case, delay, kills = example
    tmp = tmp_path_factory.mktemp("kill")
    script = tmp / "pipe.py"
    script.write_text(render(case, delay))
    code, err = run_through(script, tmp / "ref")
    assert code in (0, 1), err
    want = records(tmp / "ref")
    total = sum(len(v) if isinstance(v, list) else sum(v.values()) for v in want.values())
    out = tmp / "out"
    for kind, share, tear in kills:
        attempt = Attempt(script, out)
        if kind == "start":
            attempt.kill()
        else:
            start = result_lines(out) if out.exists() else 0
            target = start + max(1, int(share * (total - start)))
            if not attempt.kill_when(lambda: out.exists() and result_lines(out) >= target):
                code, err = attempt.finish()
                assert code in (0, 1), err
                FIGURES["ended before the kill"] += 1
                continue
        state = read_journal(out) if out.exists() else None
        if tear and state is not None and not state.finished:   # (killed after the end: no tear)
            _tear(out)
    code, err = Attempt(script, out).finish()
    assert code in (0, 1), err
    got = records(out)
    if got != want:
        FIGURES["mismatches"] += 1
    assert got == want, f"{case!r}\nkills {kills}\nscript {script}"
    assert killrun.leftovers(out) == []
    assert read_journal(out).done == read_journal(tmp / "ref").done    # every unit complete
    FIGURES["pipelines"] += 1


def _tear(out):
    """What a crash in the middle of a write leaves: half a journal record, half a result."""
    FIGURES["torn tails"] += 1
    with open(out / ".papy-journal", "ab") as f:
        f.write(b'{"done":[[0,999999]],"files":{"p0":[99')
    for path in out.glob("*.jsonl"):
        with open(path, "ab") as f:
            f.write(b'{"i":99999,"v":12')
        break


def test_a_process_pool_pipeline_survives_many_kills(tmp_path):
    """The montecarlo shape (produce, spawn, consume) on processes, killed ten times."""
    script = tmp_path / "mc.py"
    script.write_text(MONTECARLO)
    code, err = run_through(script, tmp_path / "ref")
    assert code == 0, err
    want = records(tmp_path / "ref")
    out, rnd = tmp_path / "out", random.Random(17)
    for _ in range(6 if not SOAK else 40):
        attempt = Attempt(script, out)
        target = rnd.randrange(1, 400)
        if not attempt.kill_when(lambda: out.exists() and result_lines(out) >= target):
            attempt.finish()
            break
    code, err = Attempt(script, out).finish()
    assert code == 0, err
    assert records(out) == want
    FIGURES["pipelines"] += 1


MONTECARLO = '''\
import random
import time

from papy_engine import IMap, Piper, Plumber


def split(inbox):
    time.sleep(0.002)
    return [(inbox[0], k) for k in range(4)]


def simulate(inbox):
    seed, part = inbox[0]
    rnd = random.Random(seed * 4 + part)
    return sum(rnd.random() ** 2 + rnd.random() ** 2 <= 1 for _ in range(200))


def gather(inbox):
    return 4 * sum(inbox[0]) / 800


def pipeline():
    pool = IMap(worker_num=2, worker_type='process', name='pool')
    plumber = Plumber()
    plumber.add_pipe((Piper(split, name='split', produce=4, parallel=pool),
                      Piper(simulate, name='simulate', spawn=4, parallel=pool),
                      Piper(gather, name='gather', consume=4)))
    return plumber


INPUTS = [range(400)]
'''
