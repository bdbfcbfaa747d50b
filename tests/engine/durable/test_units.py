"""The unit plan (which input items a result depends on), unit sets and the mapping."""
import random

import pytest

from papy_engine import IMap, Piper, Plumber
from papy_engine.durable.mapping import Mapper, Tap
from papy_engine.durable.tracker import Tracker
from papy_engine.durable.units import plan_units
from papy_engine.durable.unitset import UnitSet, compress


def f(inbox):
    return inbox


def piper(name, **kw):
    return Piper(f, name=name, **kw)


def chain(*pipers):
    p = Plumber()
    p.add_pipe(pipers)
    return p


def test_a_chain_with_produce_and_consume_has_whole_evaluations_per_unit():
    p = chain(piper("a", consume=2), piper("b", produce=3), piper("c", consume=3))
    plan = plan_units(p, ["c"])
    assert plan.refusal is None
    assert plan.per_unit == {"a": 2} and plan.evals == {"a": 1, "b": 1, "c": 1}


def test_the_montecarlo_shape_and_a_consume_that_needs_several_items():
    p = chain(piper("split", produce=4), piper("sim", spawn=4), piper("gather", consume=4))
    assert plan_units(p, ["gather"]).evals == {"split": 1, "sim": 4, "gather": 1}
    p = chain(piper("a", consume=3, spawn=2), piper("b", produce=2, spawn=2),
              piper("c", consume=4))
    plan = plan_units(p, ["c"])
    assert plan.per_unit == {"a": 6} and plan.evals == {"a": 2, "b": 2, "c": 1}


def test_two_inputs_joined_get_units_of_their_own_size():
    a, b = piper("a", produce=2), piper("b", spawn=2)
    j = piper("j", spawn=2)
    p = Plumber()
    p.add_pipe((a, j))
    p.add_pipe((b, j))
    plan = plan_units(p, ["j"])
    assert plan.refusal is None and plan.per_unit == {"a": 1, "b": 2}
    assert plan.evals["j"] == 2


def test_pipes_at_different_rates_into_one_piper_are_refused():
    # Balanced pipes always agree (produce*spawn == consume*spawn keeps items per
    # evaluation*spawn constant along every pipe); the check guards the rest.
    s, x, y, k = piper("s"), piper("x"), piper("y"), piper("k")
    p = Plumber()
    p.add_pipe((s, x, k))
    p.add_pipe((s, y, k))
    x.produce = 2
    plan = plan_units(p, ["k"])
    assert plan.refusal and "different rates" in plan.refusal and "'k'" in plan.refusal


def test_below_an_unordered_piper_one_pipe_and_consume_1_are_traced_the_rest_refused():
    pool = IMap(worker_num=1, worker_type="thread")
    u = piper("u", parallel=pool, ordered=False, produce=2)
    p = chain(piper("in"), u, piper("below", spawn=2))
    plan = plan_units(p, ["below"])
    assert plan.refusal is None and plan.via == {"below": "u"} and plan.taps() == ["u"]
    assert plan.loose("below") and plan.loose("u") and not plan.loose("in")
    u2 = piper("u2", parallel=pool, ordered=False, produce=2)
    p = chain(piper("in2"), u2, piper("grp", consume=2))
    plan = plan_units(p, ["grp"])
    assert "groups consume=2" in plan.refusal and "'u2'" in plan.refusal


def test_an_unordered_pool_makes_its_pipers_unordered():
    pool = IMap(worker_num=1, worker_type="thread", ordered=False)
    p = chain(piper("a", parallel=pool), piper("b"))
    assert plan_units(p, ["b"]).via == {"b": "a"}


def test_only_pipers_above_written_ones_matter():
    a, b, c = piper("a"), piper("b"), piper("c", produce=2)
    p = Plumber()
    p.add_pipe((a, b))
    p.add_pipe((a, c))
    plan = plan_units(p, ["b"])
    assert plan.order == ["a", "b"] and plan.evals == {"a": 1, "b": 1}


def test_evaluations_pad_to_the_longest_input_and_shorten_the_last_group():
    p = chain(piper("a", consume=3), piper("b", produce=2))
    plan = plan_units(p, ["b"])
    assert plan.evaluations({"a": 10}) == {"a": 4, "b": 4}
    assert plan.evaluations({"a": None}) == {"a": None, "b": None}


def test_unit_set_merges_ranges_and_counts_what_is_missing():
    s = UnitSet()
    for u in [0, 1, 2, 5, 6, 9, 3, 4]:
        s.add(u)
    assert s.ranges() == [[0, 7], [9, 10]] and len(s) == 8
    assert 6 in s and 7 not in s and 9 in s
    assert [s.nth_missing(j) for j in range(4)] == [7, 8, 10, 11]
    assert s.missing_below(10) == 2 and s.first_missing() == 7
    rnd = random.Random(5)
    for _ in range(200):
        units = {rnd.randrange(60) for _ in range(rnd.randrange(40))}
        s = UnitSet()
        for u in rnd.sample(sorted(units), len(units)):
            s.add(u)
        assert s.ranges() == compress(units)
        missing = [u for u in range(200) if u not in units]
        assert [s.nth_missing(j) for j in range(50)] == missing[:50]


def test_a_tap_maps_output_positions_back_to_evaluations():
    t = Tap(produce=2)
    t.record(0, 4, 0)      # evaluations 0, 1
    t.record(4, 2, 5)      # evaluation 5 came early
    t.record(6, 6, 2)      # 2, 3, 4
    t.record(12, 2, 6)     # continues the last run
    assert [t.lookup(j) for j in range(14)] == [
        (0, 0), (0, 1), (1, 0), (1, 1), (5, 0), (5, 1), (2, 0), (2, 1), (3, 0), (3, 1),
        (4, 0), (4, 1), (5 + 1, 0), (6, 1)]
    with pytest.raises(LookupError):
        t.lookup(14)


def test_a_mapper_skips_done_units_and_traces_through_taps():
    pool = IMap(worker_num=1, worker_type="thread")
    p = chain(piper("a", consume=2), piper("u", parallel=pool, ordered=False), piper("w"))
    plan = plan_units(p, ["w"])
    m = Mapper(plan, UnitSet([[0, 2], [3, 4]]))
    assert [m.canonical("a", e) for e in range(3)] == [2, 4, 5]
    m.taps["u"].record(0, 1, 1)
    m.taps["u"].record(1, 1, 0)
    assert m.canonical("w", 0) == 4 and m.canonical("w", 1) == 2


def test_the_tracker_completes_a_unit_when_every_written_piper_has_it():
    a, b, c = piper("a"), piper("b", produce=2), piper("c")
    p = Plumber()
    p.add_pipe((a, b))
    p.add_pipe((a, c))
    plan = plan_units(p, ["b", "c"])
    t = Tracker(plan)
    t.add("b", 0, 2)
    assert not t.complete
    t.add("c", 0)
    t.add("c", 1)
    t.add("b", 1, 1)
    assert t.complete.ranges() == [[0, 1]]
    t.add("b", 1, 1)
    assert t.take().ranges() == [[0, 2]] and not t.take()
    t.add("c", 2)            # unit 2 is the last; b's part is not written yet
    t.input_ended("a", 3)
    assert 2 not in t.complete
    t.add("b", 2, 2)
    assert 2 in t.complete and t.units_total() == 3
