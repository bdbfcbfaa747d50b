"""Worker: composition, the inbox convention, placeholders, pickling by value."""
import pickle
import subprocess
import sys

import dill
import pytest

from papy_engine import PapyError, PiperError, Worker, WorkerError, imports, is_placeholder


def add(inbox, n=1):
    return inbox[0] + n


def mul(inbox, k=2):
    return inbox[0] * k


def boom(inbox):
    raise ValueError(f"bad item {inbox[0]}")


def test_single_function_gets_the_inbox_tuple():
    seen = []
    Worker(lambda inbox: seen.append(inbox))((7,))
    assert seen == [(7,)]


def test_composition_boxes_intermediate_results():
    w = Worker((add, mul))
    assert w((3,)) == 8  # mul((add((3,)),)) == (3 + 1) * 2
    assert w.name == "add_mul"


def test_args_and_kwargs_single_and_per_function():
    assert Worker(add, (10,))((1,)) == 11
    assert Worker(add, kwargs={"n": 5})((1,)) == 6
    w = Worker((add, mul), ((2,), ()), ({}, {"k": 10}))
    assert w((1,)) == 30


def test_mismatched_args_are_refused_with_counts():
    with pytest.raises(PapyError, match="expected 2, got 1"):
        Worker((add, mul), ((1,),))
    with pytest.raises(PapyError, match="must be callable"):
        Worker((add, 3))


@pytest.mark.parametrize("kw", [{"args": 5}, {"kwargs": 5}, {"args": "ab"}])
def test_args_or_kwargs_of_the_wrong_kind_are_refused_clearly(kw):
    # args=5 raised a bare "TypeError: 'int' object is not iterable".
    with pytest.raises(PapyError, match=r"Worker (args|kwargs) must be a (tuple|dict)"):
        Worker(lambda inbox: inbox, **kw)


def test_exception_becomes_placeholder_with_traceback():
    r = Worker((add, boom))((1,))
    assert isinstance(r, WorkerError) and is_placeholder(r)
    assert r.exc_type == "ValueError" and r.message == "bad item 2"
    assert r.function == "boom"
    assert "Traceback" in r.traceback and "raise ValueError" in r.traceback


def test_placeholder_in_inbox_is_passed_without_calling():
    calls = []
    err = PiperError("late", exc_type="TimeoutError", piper="p", index=4)
    out = Worker(lambda i: calls.append(i))((1, err))
    assert out is err and calls == []


def test_placeholders_pickle_with_all_fields():
    r = Worker(boom)((1,))
    r.piper, r.index = "p", 3
    for dumps, loads in ((pickle.dumps, pickle.loads), (dill.dumps, dill.loads)):
        back = loads(dumps(r))
        assert type(back) is WorkerError and back == r
        assert (back.exc_type, back.message, back.piper, back.index, back.function) == \
               ("ValueError", "bad item 1", "p", 3, "boom")


def test_debug_raises():
    w = Worker(boom, debug=True)
    with pytest.raises(ValueError):
        w((1,))


def test_map_matches_call_on_every_path():
    items = [1, 2, WorkerError("x"), 4]
    for w in (Worker(add), Worker((add, mul)), Worker(add, (5,))):
        assert w.map(items, boxed=True) == [w((x,)) for x in items]
        assert w.map([(x,) for x in items]) == [w((x,)) for x in items]


def fails_on_odd_tens(inbox):
    if inbox[0] % 20 == 10:
        raise ValueError(f"bad {inbox[0]}")
    return inbox[0] * 2


def test_the_fast_path_keeps_going_after_an_item_raises():
    """Bare items without placeholders run as one ``map`` in C; an item that
    raises becomes its own placeholder and the rest still run, in order."""
    items = list(range(100))
    w = Worker(fails_on_odd_tens)
    progress = [7, 7, 7]
    out = w.map(items, boxed=True, progress=progress)
    assert len(out) == 100 and w.errors_created == 5
    for x, r in zip(items, out):
        if x % 20 == 10:
            assert isinstance(r, WorkerError) and r.message == f"bad {x}"
        else:
            assert r == 2 * x
    assert progress[1] == -1   # the item in progress was not published, and it says so
    w.map([3], boxed=True, progress=progress)
    assert progress[1] == 0    # one item: it is known anyway


def stops_on_sevens(inbox):
    if inbox[0] % 7 == 0:
        raise StopIteration(f"stop {inbox[0]}")
    return inbox[0] * 2


def test_the_fast_path_keeps_an_item_whose_function_raises_stop_iteration():
    """StopIteration from the function reads to ``map`` in C as its own end:
    the chunk stopped short there and its other items were lost.  Each such
    item is a placeholder now, and the items after it still run."""
    items = list(range(30))
    w = Worker(stops_on_sevens)
    out = w.map(items, boxed=True)
    assert len(out) == 30 and w.errors_created == 5
    for x, r in zip(items, out):
        if x % 7 == 0:
            assert isinstance(r, WorkerError) and r.exc_type == "StopIteration"
            assert r.message == f"stop {x}"
        else:
            assert r == 2 * x


def test_items_with_a_placeholder_publish_each_offset():
    """A chunk holding a placeholder takes the item-by-item path: a supervisor
    can tell which item is in progress."""
    seen = []

    class Progress(list):
        def __setitem__(self, k, v):
            seen.append(v)
            super().__setitem__(k, v)
    err = WorkerError("upstream")
    out = Worker(add).map([1, err, 3], boxed=True, progress=Progress([0, 0, 0]))
    assert out == [2, err, 4] and seen == [0, 1, 2]


def test_lambdas_and_closures_pickle_by_value_in_a_fresh_interpreter():
    k = 41

    def plus_one(inbox):  # a closure: no module can import it
        return inbox[0] + 1
    w = Worker((lambda i: i[0] + k, plus_one))
    payload = dill.dumps(w, recurse=True)
    code = ("import sys, dill; w = dill.loads(sys.stdin.buffer.read()); "
            "print(w((0,)))")
    out = subprocess.run([sys.executable, "-c", code], input=payload, capture_output=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == b"42"


def test_imports_decorator_makes_modules_available():
    @imports(["math", "os.path as osp"])
    def f(inbox):
        return math.floor(inbox[0]), osp.basename("/a/b")  # noqa: F821
    assert f((2.5,)) == (2, "b")
    assert f.papy_imports == ["math", "os.path as osp"]
    with pytest.raises(PapyError):
        imports([""])
