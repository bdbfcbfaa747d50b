"""Generated pipelines against the reference evaluator (issue 11, "Nothing lost").

Each property builds a random pipeline (pipeline_strategies), runs it on the
engine and checks every output piper's results and every piper's in/out/errors
against tests/reference.py: a plain run, a run stopped at a random moment
(the reference then runs on the input prefixes that were pulled), and a run
paused and resumed at random moments (identical to the plain run).

Profiles: the default (CI) runs a few hundred pipelines in well under a
minute; ``PAPY_SOAK=1`` runs thousands.  Failures shrink to a small pipeline
printed as code (Hypothesis keeps them in its local database, .hypothesis/);
every divergence found so far also stays as a named regression
(test_counterexample_matches_reference).
"""
from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import pipeline_funcs as pf
import reference as ref
from helpers import wait_until
from pipeline_build import TERMINAL, Case, PoolSpec, build, finish, mismatches
from pipeline_strategies import cases
from papy_engine import PlumberError

SOAK = os.environ.get("PAPY_SOAK") == "1"
settings.register_profile(
    "papy", deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture])
BASE = settings.get_profile("papy")


def examples(n: int) -> settings:
    return settings(BASE, max_examples=n * (25 if SOAK else 1))


# conftest checks for leftover processes once per test; finish() after every example.
pytestmark = [pytest.mark.timeout(3600 if SOAK else 300)]


@pytest.fixture(autouse=True, scope="module")
def _quiet_engine():
    """Generated pipelines make placeholders on purpose: keep their log lines out."""
    import logging
    log = logging.getLogger("papy_engine")
    level = log.level
    log.setLevel(logging.CRITICAL)
    yield
    log.setLevel(level)


def _assert_matches(case: Case, spec: ref.PipelineSpec, plumber) -> None:
    problems = mismatches(spec, plumber)
    assert not problems, "\n".join([repr(case)] + problems)


# -- counterexamples found so far (each a divergence of the engine) -----------

P, F = ref.PiperSpec, ref.Fn


def _case(pipers, build, inputs, pools=(), parallel=None, stride=None) -> Case:
    return Case(ref.PipelineSpec(list(pipers), list(build), [list(d) for d in inputs]),
                list(pools), dict(parallel or {}), stride)


# A ProduceError has the evaluation's index (the engine gave None).
PRODUCE_ERROR_INDEX = _case([P("p0", (F(pf.digest),), produce=2)], [("p0",)], [range(3)])
# consume=2 with a Plumber stride of 3 drops items (issue 11: range(8) gave 3 groups).
CONSUME_PLUMBER_STRIDE = _case([P("p0", (F(pf.keep),), consume=2)], [("p0",)], [range(8)],
                               stride=3)
CONSUME_IMAP_STRIDE = _case([P("p0", (F(pf.keep),), consume=2)], [("p0",)], [range(8)],
                            [PoolSpec("thread", 1, stride=3)], {"p0": 0})
# The default adaptive stride, two inputs, consume=3 on one: 974 of 2000 items lost.
CONSUME_DEFAULT_STRIDE_TWO_INPUTS = _case(
    [P("p0", (F(pf.digest),)), P("p1", (F(pf.digest),), consume=3)],
    [("p0",), ("p1",)], [range(2000), range(1000, 3000)])
# A MissingInput made at a join has the piper's index and counts as its error.
MISSING_INPUT_INDEX = _case(
    [P("p0", (F(pf.digest),)), P("p1", (F(pf.keep),)), P("p2", (F(pf.digest),))],
    [("p0", "p2"), ("p1", "p2")], [[], range(1000, 1001)])
# Unequal streams into consume=2: pad, then group (the engine lost item 101).
CONSUME_UNEQUAL_STREAMS = _case(
    [P("p0", (F(pf.keep),), spawn=2), P("p1", (F(pf.keep),), spawn=2),
     P("p2", (F(pf.keep),), consume=2)],
    [("p0", "p2"), ("p1", "p2")], [[0], [100, 101]])
# A placeholder passing through keeps its piper after a function error in the
# same piper (the engine re-stamped p0's ProduceError as p1's, index 2).
PASSING_PLACEHOLDER_RESTAMPED = _case(
    [P("p0", (F(pf.split_bad, (2, 2)),), produce=2),
     P("p1", (F(pf.fail_if, (2,), {"rem": 0}),), spawn=2)],
    [("p0", "p1")], [range(2)])

# A function raising StopIteration on the fast path (map in C) ended the chunk
# quietly: 31 of 40 items lost, the run still "finished".  Serial, in a process
# pool, and in a fused chain (the item raises mid-chain, in chunks past SAMPLE).
STOP_ITERATION_SERIAL = _case([P("p0", (F(pf.stop_if_7),))], [("p0",)], [range(40)])
STOP_ITERATION_PROCESS = _case([P("p0", (F(pf.stop_if_7),))], [("p0",)], [range(40)],
                               [PoolSpec("process", 2)], {"p0": 0})
STOP_ITERATION_FUSED = _case(
    [P("p0", (F(pf.keep),)), P("p1", (F(pf.stop_if_7),)), P("p2", (F(pf.value_if_5),))],
    [("p0", "p1", "p2")], [range(3000)], [PoolSpec("process", 2)],
    {"p0": 0, "p1": 0, "p2": 0})


COUNTEREXAMPLES = {name: value for name, value in globals().items()
                   if isinstance(value, Case)}


def _run_and_compare(case: Case) -> None:
    plumber = build(case)
    plumber.start(case.spec.inputs)
    plumber.run()
    finish(plumber)
    assert plumber.state == "finished", (plumber.state, plumber.error)
    _assert_matches(case, case.spec, plumber)


@given(cases())
@examples(200)
def test_generated_pipeline_matches_reference(case):
    _run_and_compare(case)


@pytest.mark.parametrize("name", sorted(COUNTEREXAMPLES))
def test_counterexample_matches_reference(name):
    """Each divergence the generator found, kept as a small regression."""
    _run_and_compare(COUNTEREXAMPLES[name])


# -- stop and pause at chosen moments ----------------------------------------

def _gated(case: Case, data) -> tuple[Case, str, int]:
    """The case with a gate as the first function of a serial or thread piper.

    Returns the new case, the gate's key and how many calls the gate gets in
    a whole run (from the reference).
    """
    names = [p.name for p in case.spec.pipers
             if case.parallel.get(p.name) is None
             or case.pools[case.parallel[p.name]].kind == "thread"]
    parallel = dict(case.parallel)
    if not names:  # every piper on processes: run the first one serially
        names = [case.spec.pipers[0].name]
        del parallel[names[0]]
    target = data.draw(st.sampled_from(names), label="gated piper")
    key = "gate"  # one gate armed at a time: tests run one after another
    pipers = [replace(p, fns=(ref.Fn(pf.gate, (key,)),) + p.fns) if p.name == target else p
              for p in case.spec.pipers]
    gated = Case(replace(case.spec, pipers=pipers), case.pools, parallel, case.stride)
    with pf.Gate(key) as counter:
        ref.evaluate(gated.spec)
    return gated, key, counter.calls


def _next_hit(gate: pf.Gate, plumber, timeout: float = 20.0):
    """The release event of the next blocked gate call, or None once the run ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return gate.hits.get(timeout=0.02)
        except queue.Empty:
            if plumber.state in TERMINAL:
                return None
    raise AssertionError(f"neither a gate call nor the end of the run in {timeout} s")


@given(cases(min_len=1), st.data())
@examples(100)
def test_stop_at_a_random_moment_accounts_for_every_pulled_item(case, data):
    case, key, calls = _gated(case, data)
    at = data.draw(st.integers(1, max(calls, 1)), label="stop at gate call")
    with pf.Gate(key) as gate:
        gate.arm(at)
        plumber = build(case)
        plumber.start(case.spec.inputs)
        plumber.run()
        release = _next_hit(gate, plumber)
        if release is not None:
            stopper = threading.Thread(target=plumber.stop)
            stopper.start()
            assert wait_until(lambda: plumber.state != "running", 10), plumber.state
            release.set()
            stopper.join(30)
            assert not stopper.is_alive(), "stop() did not return"
        finish(plumber)
    assert not gate.timed_out
    event(f"ended {plumber.state}")
    assert plumber.state == ("finished" if release is None else "stopped"), plumber.state
    pulled = plumber.stats["inputs"]
    names = ref.inputs(case.spec)
    prefixes = [data_[:pulled[name]] for name, data_ in zip(names, case.spec.inputs)]
    if release is None:
        assert prefixes == case.spec.inputs, pulled
    _assert_matches(case, replace(case.spec, inputs=prefixes), plumber)


@given(cases(min_len=20), st.data())
@examples(100)
def test_pause_and_resume_at_random_moments_change_nothing(case, data):
    case, key, calls = _gated(case, data)
    at = data.draw(st.lists(st.integers(1, max(calls, 1)), min_size=1, max_size=3),
                   label="pause at gate calls")
    with pf.Gate(key) as gate:
        plumber = build(case)
        plumber.start(case.spec.inputs)
        plumber.run()
        for n in sorted(at):
            gate.arm(n)
            release = _next_hit(gate, plumber)
            if release is None:
                break
            release.set()
            try:
                plumber.pause()
            except PlumberError:  # the run ended before pause() began
                assert plumber.state == "finished", plumber.state
                break
            if plumber.state == "finished":  # ... or while it waited
                break
            assert plumber.state == "paused", plumber.state
            event("paused mid-run")
            plumber.resume()
            assert plumber.state in ("running", "finished"), plumber.state
        finish(plumber)
    assert not gate.timed_out
    assert plumber.state == "finished", (plumber.state, plumber.error)
    _assert_matches(case, case.spec, plumber)
