"""Dagger: graph edits, validation before change, deterministic order."""
import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papy_engine import Dagger, DaggerError, Piper


def f(inbox):
    return inbox[0]


def mk(name, **kw):
    return Piper(f, name=name, **kw)


def test_add_pipe_adds_pipers_and_edges():
    a, b, c = mk("a"), mk("b"), mk("c")
    d = Dagger()
    d.add_pipe((a, b, c))
    assert d.postorder() == [a, b, c]
    assert d.get_inputs() == [a] and d.get_outputs() == [c]
    assert d.children_of(a) == [b] and d.parents_of(c) == [b]


def test_cycle_is_refused_naming_pipers_and_nothing_changes():
    a, b, c = mk("a"), mk("b"), mk("c")
    d = Dagger()
    d.add_pipe((a, b, c))
    with pytest.raises(DaggerError, match="cycle.*'c' -> 'a'|'c' -> 'a'.*cycle"):
        d.add_pipe((c, a))
    assert d.pipes() == [(a, b), (b, c)]
    with pytest.raises(DaggerError, match="itself"):
        d.add_pipe((a, a))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 6), min_size=2, max_size=4), max_size=12))
def test_a_pipe_is_refused_exactly_when_networkx_sees_a_cycle(pipes):
    """The Dagger's own reachability check against networkx as the oracle: each
    pipe is added unless the graph with it would not be a DAG, and a refused
    pipe changes nothing."""
    nodes = [mk(f"p{i}") for i in range(7)]
    d, oracle = Dagger(), nx.DiGraph()
    for pipe in pipes:
        trial = oracle.copy()
        nx.add_path(trial, pipe)
        if nx.is_directed_acyclic_graph(trial):
            d.add_pipe([nodes[i] for i in pipe])
            oracle = trial
        else:
            with pytest.raises(DaggerError, match="cycle|itself"):
                d.add_pipe([nodes[i] for i in pipe])
        assert sorted((u.name, v.name) for u, v in d.pipes()) == \
            sorted((f"p{u}", f"p{v}") for u, v in oracle.edges)


def test_unbalanced_pipe_is_refused_with_numbers():
    a, b = mk("a", produce=3), mk("b")
    d = Dagger()
    with pytest.raises(DaggerError, match=r"'a' -> 'b' does not balance.*3\*1 = 3.*1\*1 = 1"):
        d.add_pipe((a, b))
    assert len(d) == 0
    d.add_pipe((a, mk("c", spawn=3)))
    d.add_pipe((mk("x", produce=2, spawn=2), mk("y", consume=4)))


def test_inputs_are_ordered_by_branch_then_insertion():
    x, y, z, out = mk("x", branch=2), mk("y"), mk("z", branch=1), mk("out")
    d = Dagger()
    for p in (x, y, z):
        d.add_pipe((p, out))
    assert d.parents_of(out) == [y, z, x]
    assert d.get_inputs() == [y, z, x]


def test_same_construction_same_order():
    def build():
        ps = [mk(n) for n in "abcdef"]
        d = Dagger()
        d.add_pipe((ps[0], ps[2], ps[4]))
        d.add_pipe((ps[1], ps[3], ps[4]))
        d.add_pipe((ps[2], ps[5]))
        return [p.name for p in d.postorder()], [(u.name, v.name) for u, v in d.pipes()]
    assert build() == build()


def test_delete_piper_and_pipe():
    a, b, c = mk("a"), mk("b"), mk("c")
    d = Dagger()
    d.add_pipe((a, b, c))
    d.del_pipe((b, c))
    assert d.children_of(b) == []
    d.del_piper(b)
    assert b not in d and d.children_of(a) == []
    with pytest.raises(DaggerError, match="no pipe"):
        d.del_pipe((a, c))
    with pytest.raises(DaggerError, match="not in this pipeline"):
        d.del_piper(b)


def test_names_unique_default_names_get_suffixes():
    d = Dagger()
    p1, p2 = Piper(f), Piper(f)
    d.add_pipe((p1, p2))
    assert (p1.name, p2.name) == ("f", "f_2")
    with pytest.raises(DaggerError, match="already"):
        d.add_piper(mk("f"))
    assert d.get_piper("f_2") is p2


def test_piper_options_are_validated():
    from papy_engine import PiperError
    with pytest.raises(PiperError, match="'consume' must be an int >= 1"):
        Piper(f, consume=0)
    with pytest.raises(PiperError, match="needs a parallel piper"):
        Piper(f, timeout=1)
    with pytest.raises(PiperError, match="'parallel' must be False or an IMap"):
        Piper(f, parallel=True)
