"""The reference evaluator itself, pinned by hand-computed cases.

Every expected value here is worked out by hand from the semantics in
tests/reference.py's docstring (and the original PaPy's documented examples,
adapted: consume gives one list per pipe, placeholders are not nested), so
that the oracle the generated tests trust is itself checked.
"""
import pytest

import reference as ref
from papy_engine.errors import PiperError, WorkerError

P, F = ref.PiperSpec, ref.Fn


def spec(pipers, build, *inputs):
    return ref.PipelineSpec(list(pipers), list(build), [list(d) for d in inputs])


def out(s, name):
    return ref.evaluate(s)[name].out


def stats(s, name):
    return ref.evaluate(s)[name].stats


def first(inbox):
    return inbox[0]


def inc(inbox):
    return inbox[0] + 1


def dbl(inbox):
    return inbox[0] * 2


def box(inbox):
    return inbox


def l33t(inbox):
    return inbox[0].replace("e", "3").replace("o", "0")


def pair_of(inbox):
    return (inbox[0], inbox[0] + 1)


def add(inbox, k, m=1):
    return inbox[0] * m + k


def fails_on_odd(inbox):
    if inbox[0] % 2:
        raise ValueError(f"odd {inbox[0]}")
    return inbox[0]


def test_chain_composes_functions_and_pipers():
    s = spec([P("a", (F(inc), F(dbl))), P("b", (F(add, (10,), {"m": 3}),))], [("a", "b")],
             [1, 2])
    assert out(s, "a") == [4, 6]                  # dbl((inc((1,)),)) = 4
    assert out(s, "b") == [22, 28]                # 4 * 3 + 10
    assert stats(s, "b") == {"in": 2, "out": 2, "errors": 0}


def test_fan_in_orders_the_inbox_by_branch_then_add_order():
    pipers = [P("x", (F(first),), branch=2), P("y", (F(first),)), P("z", (F(first),), branch=1),
              P("w", (F(first),), branch="a"), P("v", (F(first),), branch=1.5), P("j", (F(box),))]
    s = spec(pipers, [("x", "j"), ("y", "j"), ("z", "j"), ("w", "j"), ("v", "j")],
             *[[n] for n in "yzvxw"])
    assert ref.inputs(s) == ["y", "z", "v", "x", "w"]  # None, 1, 1.5, 2, 'a'
    assert out(s, "j") == [("y", "z", "v", "x", "w")]


def test_ties_in_branch_follow_add_order_not_names():
    s = spec([P("b", (F(first),)), P("a", (F(first),)), P("j", (F(box),))],
             [("j",), ("b", "j"), ("a", "j")], ["B"], ["A"])
    assert ref.add_order(s) == ["j", "b", "a"]
    assert out(s, "j") == [("B", "A")]


def test_fan_out_gives_every_child_the_whole_stream():
    s = spec([P("u", (F(first),)), P("l", (F(inc),)), P("r", (F(dbl),))],
             [("u", "l"), ("u", "r")], [1, 2, 3])
    assert out(s, "l") == [2, 3, 4] and out(s, "r") == [2, 4, 6]
    assert ref.outputs(s) == ["l", "r"]


def test_consume_groups_into_lists_last_group_shorter():
    s = spec([P("c", (F(box),), consume=3)], [("c",)], range(8))
    assert out(s, "c") == [([0, 1, 2],), ([3, 4, 5],), ([6, 7],)]
    assert stats(s, "c") == {"in": 3, "out": 3, "errors": 0}


def test_consume_pads_the_shorter_stream_before_grouping():
    s = spec([P("a", (F(first),)), P("b", (F(first),)), P("j", (F(box),), consume=2)],
             [("a", "j"), ("b", "j")], [0], [100, 101, 102])
    got = out(s, "j")
    assert got[0] == PiperError(exc_type="MissingInput", piper="j", index=0,
                                message="no item from an upstream pipe")
    assert got[1] is not got[0] and (got[1].exc_type, got[1].index) == ("MissingInput", 1)
    assert stats(s, "j") == {"in": 2, "out": 2, "errors": 2}


def test_missing_input_with_consume_one_and_an_upstream_placeholder_first():
    s = spec([P("a", (F(fails_on_odd),)), P("b", (F(first),)), P("j", (F(box),))],
             [("a", "j"), ("b", "j")], [1, 2, 3], [7])
    got = out(s, "j")
    assert got[0].piper == "a" and got[0].index == 0           # a's error comes first
    assert got[1] == PiperError("no item from an upstream pipe", exc_type="MissingInput",
                                piper="j", index=1)
    assert got[2].piper == "a" and got[2].index == 2            # not j's: passes through
    assert stats(s, "j") == {"in": 3, "out": 3, "errors": 1}


def test_function_error_is_a_worker_error_naming_function_piper_and_index():
    s = spec([P("p", (F(inc), F(fails_on_odd)))], [("p",)], [0, 1, 2])
    got = out(s, "p")
    assert got[0] == WorkerError("odd 1", exc_type="ValueError", function="fails_on_odd",
                                 piper="p", index=0)
    assert got[1] == 2 and got[2].index == 2
    assert stats(s, "p") == {"in": 3, "out": 3, "errors": 2}


def test_placeholder_passes_through_unchanged_and_counts_only_where_made():
    s = spec([P("a", (F(fails_on_odd),)), P("b", (F(inc),)), P("c", (F(dbl),))],
             [("a", "b", "c")], [1, 2])
    got = out(s, "c")
    assert got[0] == WorkerError("odd 1", exc_type="ValueError", function="fails_on_odd",
                                 piper="a", index=0)
    assert got[1] == 6
    assert [stats(s, n)["errors"] for n in "abc"] == [1, 0, 0]


def test_consume_group_holding_a_placeholder_becomes_it():
    s = spec([P("a", (F(fails_on_odd),)), P("s", (F(box),), consume=2)], [("a", "s")],
             [0, 1, 2, 4])
    got = out(s, "s")
    assert got[0].piper == "a" and got[0].index == 1
    assert got[1] == ([2, 4],)


def test_produce_emits_sub_items_one_result_after_another():
    s = spec([P("p", (F(pair_of),), produce=2), P("s", (F(dbl),), spawn=2)],
             [("p", "s")], [10, 20])
    assert out(s, "p") == [10, 11, 20, 21]                # not PaPy's strided 10, 20, 11, 21
    assert out(s, "s") == [20, 22, 40, 42]
    assert stats(s, "p") == {"in": 2, "out": 4, "errors": 0}
    assert stats(s, "s") == {"in": 4, "out": 4, "errors": 0}


def test_produce_repeat_and_placeholders_are_emitted_n_times():
    s = spec([P("r", (F(fails_on_odd),), produce=3, repeat=True)], [("r",)], [2, 3])
    got = out(s, "r")
    assert got[:3] == [2, 2, 2]
    assert got[3] is got[4] is got[5] and got[3].index == 1
    assert stats(s, "r") == {"in": 2, "out": 6, "errors": 1}


@pytest.mark.parametrize("result", [5, [1], [1, 2, 3]])
def test_produce_of_a_wrong_shape_is_one_produce_error_emitted_n_times(result):
    s = spec([P("p", (F(lambda inbox: result),), produce=2)], [("p",)], [0, 1])
    got = out(s, "p")
    assert got[0] is got[1]
    assert got[2] == PiperError("expected a sequence of 2 items", exc_type="ProduceError",
                                piper="p", index=1)
    assert stats(s, "p") == {"in": 2, "out": 4, "errors": 2}


def test_empty_input_runs_nothing():
    s = spec([P("a", (F(inc),), consume=2), P("b", (F(inc),), spawn=2)], [("a", "b")], [])
    assert out(s, "b") == [] and stats(s, "a") == {"in": 0, "out": 0, "errors": 0}


def test_loose_pipers_are_the_unordered_ones_and_below():
    s = spec([P("a", (F(inc),)), P("u", (F(inc),), ordered=False), P("b", (F(inc),)),
              P("c", (F(inc),))], [("a", "u", "b"), ("a", "c")], [1])
    assert ref.loose_pipers(s) == ({"u", "b"}, {"b"})


def test_normalize_keeps_contract_fields_only():
    a = WorkerError("m", exc_type="KeyError", function="f", piper="p", index=3, traceback="x")
    b = WorkerError("m", exc_type="KeyError", function="f", piper="p", index=3, traceback="y")
    assert ref.normalize(a) == ref.normalize(b)
    assert ref.normalize(a, with_index=False) == ref.normalize(
        WorkerError("m", exc_type="KeyError", function="f", piper="p", index=9), False)
    assert ref.normalize(PiperError("one", exc_type="T", piper="p", index=1)) == \
        ref.normalize(PiperError("two", exc_type="T", piper="p", index=1))
    assert ref.normalize([1, (2,)]) == [1, (2,)]


# -- the original PaPy's documented examples (doc/examples), adapted ----------

def test_papy_doc_piper_and_parallel_piper():
    s = spec([P("l33t", (F(l33t),))], [("l33t",)], ["hello", "world"])
    assert out(s, "l33t") == ["h3ll0", "w0rld"]


def test_papy_doc_consume():
    def nimm2(inbox):
        left, right = inbox[0]
        return left + " " + right
    s = spec([P("n", (F(nimm2),), consume=2)], [("n",)], ["hello", "world", "hi", "folks"])
    assert out(s, "n") == ["hello world", "hi folks"]


def test_papy_doc_produce_consume_and_produce_spawn_consume():
    def l33t_yuk(inbox):
        return (l33t(inbox), "yuk")

    def noyuk(inbox):
        word1, _, word2, _ = inbox[0]
        return word1 + " " + word2
    words = ["hello", "world", "hi", "folks"]
    s = spec([P("l", (F(l33t_yuk),), produce=2), P("n", (F(noyuk),), consume=4)],
             [("l", "n")], words)
    assert out(s, "n") == ["h3ll0 w0rld", "hi f0lks"]
    s = spec([P("l", (F(l33t_yuk),), produce=2),
              P("u", (F(lambda inbox: inbox[0].upper()),), spawn=2),
              P("n", (F(noyuk),), consume=4)], [("l", "u", "n")], words)
    assert out(s, "n") == ["H3LL0 W0RLD", "HI F0LKS"]


def test_papy_doc_fork_join_and_dagger_inputs():
    up = F(lambda inbox: inbox[0].upper())
    s = spec([P("up", (up,)), P("E", (F(lambda i: i[0].replace("E", "3")),), branch=1),
              P("O", (F(lambda i: i[0].replace("O", "0")),), branch=2)],
             [("up", "E"), ("up", "O")], ["hello", "world"])
    assert ref.outputs(s) == ["E", "O"]
    assert list(zip(out(s, "E"), out(s, "O"))) == [("H3LLO", "HELL0"), ("WORLD", "W0RLD")]

    def join(inbox):
        return inbox[0] + " " + inbox[1]
    s = spec([P("r", (F(l33t),), branch=2), P("l", (F(l33t),), branch=1), P("j", (F(join),))],
             [("r", "j"), ("l", "j")], ["hello", "hi"], ["world", "folks"])
    assert ref.inputs(s) == ["l", "r"]   # start(datas) follows branch order
    assert out(s, "j") == ["h3ll0 w0rld", "hi f0lks"]
