"""Tests of papy_engine.workers.core: passers, zippers, joiners, plugger."""
from __future__ import annotations

import pickle

import pytest

from papy_engine.worker import Worker
from papy_engine.errors import WorkerError
from papy_engine.workers import core
from papy_engine.workers.core import (ipasser, njoiner, npasser, nzipper, plugger,
                                      sjoiner, spasser, szipper)


INBOX = ("a", "b", "c", "d")


def test_plugger_returns_none():
    assert plugger(INBOX) is None
    assert plugger(()) is None


def test_ipasser_default_first_and_index():
    assert ipasser(INBOX) == "a"
    assert ipasser(INBOX, 2) == "c"
    assert ipasser(INBOX, i=-1) == "d"
    with pytest.raises(IndexError):
        ipasser(INBOX, 9)


def test_npasser_slices_the_inbox_as_a_tuple():
    assert npasser(INBOX) == INBOX
    assert npasser(INBOX, 2) == ("a", "b")
    assert npasser(INBOX, 0) == ()
    assert npasser(list(INBOX), 3) == ("a", "b", "c")


def test_spasser_keeps_inbox_order():
    assert spasser(INBOX) == list(INBOX)
    assert spasser(INBOX, [3, 0]) == ["a", "d"]
    assert spasser(INBOX, (1,)) == ["b"]
    assert spasser(INBOX, [7]) == []
    with pytest.raises(TypeError, match="int indices"):
        spasser(INBOX, ["1"])


def test_nzipper_zips_first_n_inputs():
    inbox = ([1, 2, 3], "xyz", (True, False, None))
    assert nzipper(inbox) == [(1, "x", True), (2, "y", False), (3, "z", None)]
    assert nzipper(inbox, 2) == [(1, "x"), (2, "y"), (3, "z")]
    assert nzipper(([1, 2], [3])) == [(1, 3)]  # as long as the shortest
    assert nzipper(()) == []


def test_szipper_zips_selected_inputs():
    inbox = ([1, 2], [3, 4], [5, 6])
    assert szipper(inbox, [2, 0]) == [(1, 5), (2, 6)]
    assert szipper(inbox) == [(1, 3, 5), (2, 4, 6)]


def test_joiners():
    assert njoiner(INBOX) == "abcd"
    assert njoiner(INBOX, 2, "-") == "a-b"
    assert njoiner(INBOX, join=", ") == "a, b, c, d"
    assert sjoiner(INBOX, [3, 1], "+") == "b+d"
    assert sjoiner(INBOX, join="/") == "a/b/c/d"
    with pytest.raises(TypeError):
        njoiner((1, 2))


def test_results_pickle_and_functions_pickle_by_reference():
    results = [f(([1, 2], [3, 4])) for f in (npasser, spasser, nzipper, szipper)]
    assert pickle.loads(pickle.dumps(results)) == results
    for name in core.__all__:
        func = getattr(core, name)
        assert pickle.loads(pickle.dumps(func)) is func


def test_core_functions_in_a_worker():
    assert Worker(njoiner, (None, " "))(("hello", "world")) == "hello world"
    # the second function of a composite gets (result_of_first,)
    assert Worker((nzipper, ipasser))(([1, 2], [3, 4])) == [(1, 3), (2, 4)]
    err = Worker(ipasser, (5,))(("only",))
    assert isinstance(err, WorkerError)
    assert err.exc_type == "IndexError" and err.function == "ipasser"
