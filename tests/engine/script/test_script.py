"""Writer, static reader, builder and loader of pipeline scripts (papy_engine.script)."""
import functools
import math
import multiprocessing
import os
import textwrap
from pathlib import Path

import pytest

from helpers import ROOT, wait_until

from papy_engine import IMap, Piper, Plumber, Worker, imports
from papy_engine.errors import ScriptError
from papy_engine.script import (FuncRef, NodeDesc, PipelineDescription, ResourceDesc, build,
                                describe, load, read, render, save, script)
from papy_engine.workers.core import ipasser, sjoiner

EXAMPLES = ROOT / "examples"
EXAMPLE_FILES = sorted(p for p in EXAMPLES.glob("*.py") if p.name != "build_examples.py")

pytestmark = pytest.mark.timeout(60)


def run(plumber, *datas):
    plumber.start(list(datas))
    plumber.run()
    assert plumber.wait(timeout=30)
    return plumber


def tracked(plumber, *datas):
    return run(plumber, *datas).results


def roundtrip(tmp_path, plumber, name="p.py", **kw):
    """save -> (read == live description) -> load -> save: returns (text, loaded plumber)."""
    path = tmp_path / name
    save(plumber, path, **kw)
    text = path.read_text(encoding="utf-8")
    assert render(read(path)) == text
    loaded = load(path)
    path2 = tmp_path / ("again_" + name)
    save(loaded, path2)
    assert path2.read_text(encoding="utf-8") == text
    return text, loaded


# -- helpers defined at module level (importable as this test module) -----------------
def twice(func):
    @functools.wraps(func)
    def wrapper(inbox, *args, **kwargs):
        return 2 * func(inbox, *args, **kwargs)
    return wrapper


def apply(inbox, fn):
    return fn(inbox[0])


# -- examples --------------------------------------------------------------------
def test_there_are_four_examples():
    assert {p.stem for p in EXAMPLE_FILES} >= {"where", "wordfreq", "montecarlo", "fasta_stats"}


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_example_round_trips(path, tmp_path):
    text = path.read_text(encoding="utf-8")
    desc = read(path)
    assert render(desc) == text
    plumber = load(path)
    assert script(plumber) == text
    assert plumber.inputs_source == desc.inputs_source
    assert plumber.layout == desc.layout
    live = describe(plumber)
    assert [n.name for n in live.nodes] == [n.name for n in desc.nodes]
    assert live.edges == desc.edges
    assert live.resources == desc.resources
    out = tmp_path / path.name
    plumber.save(out)
    assert out.read_text(encoding="utf-8") == text
    assert script(Plumber.load(out)) == text


def test_example_builds_from_description_and_runs():
    desc = read(EXAMPLES / "montecarlo.py")
    ns = {}
    plumber = build(desc, ns, path=EXAMPLES / "montecarlo.py")
    assert callable(ns["simulate"]) and "pipeline" in ns
    results = tracked(plumber, range(3))["gather"]
    assert [r.split(":")[0] for r in results] == ["job 0", "job 1", "job 2"]
    assert script(plumber) == (EXAMPLES / "montecarlo.py").read_text(encoding="utf-8")


# -- tricky functions ---------------------------------------------------------------
def make_scaler(factor):
    def scale(inbox):
        return inbox[0] * factor
    return scale


def test_closures_over_constants_lambdas_and_builtins(tmp_path):
    offset = 100

    def sum(inbox):  # shadows a builtin on purpose
        return inbox[0] + offset
    times2, times3 = make_scaler(2), make_scaler(3)
    a = Piper(times2, name="a")
    b = Piper(times3, name="b")
    c = Piper(lambda inbox: inbox[0] - 1, name="c")
    d = Piper(sum, name="d")
    e = Piper(len, name="e", track=True)  # a builtin needs no import
    f = Piper(Worker(lambda inbox, k=7: [inbox[0], k]), name="f", track=True)
    p = Plumber()
    p.add_pipe((a, b, c, d, f, e))
    text, loaded = roundtrip(tmp_path, p, inputs=["range(3)"])
    assert "def _make_scale():\n    factor = 2" in text
    assert "def _make_scale_2():\n    factor = 3" in text
    assert "def c(inbox):\n    return inbox[0] - 1" in text
    assert "def sum(inbox):" in text and "offset = 100" in text
    assert "import len" not in text and "Piper(len, name='e'" in text
    assert tracked(loaded, range(3))["f"] == [[x * 6 - 1 + 100, 7] for x in range(3)]


def test_a_function_named_plumber_does_not_clash_with_the_scripts_plumber(tmp_path):
    # pipeline() bound a local 'plumber' after using the global function of
    # that name: the saved script failed to load (UnboundLocalError).
    def plumber(inbox):
        return inbox[0] + 1
    p = Plumber()
    p.add_piper(Piper(plumber, name="p1", track=True))
    text, loaded = roundtrip(tmp_path, p, inputs=["range(3)"])
    assert "Piper(plumber, name='p1'" in text
    assert tracked(loaded, range(3))["p1"] == [1, 2, 3]


def test_decorated_functions_keep_decorators_and_imports(tmp_path):
    @imports(["math", "os.path"])
    def root(inbox):
        return math.sqrt(inbox[0])

    @twice
    def plus_one(inbox, n=1):
        return inbox[0] + n
    a = Piper(root, name="root")
    b = Piper(Worker(plus_one, kwargs={"n": 2}), name="plus", track=True)
    p = Plumber()
    p.add_pipe((a, b))
    text, loaded = roundtrip(tmp_path, p, inputs=["[4, 9]"])
    assert "@imports(['math', 'os.path'])\ndef root(inbox):" in text
    assert "@twice\ndef plus_one" in text
    # this test module is importable only through pytest's sys.path: its
    # decorator is written out as source (with its own import), not imported
    assert "def twice(func):" in text and "import functools" in text
    assert "test_script" not in text
    desc = read(tmp_path / "p.py")
    assert desc.node("root").functions[0].imports == ["math", "os.path"]
    assert not desc.node("root").functions[0].source.startswith("@imports")
    assert tracked(loaded, [4, 9])["plus"] == [2 * (2.0 + 2), 2 * (3.0 + 2)]


def test_imported_functions_args_and_every_option(tmp_path):
    pool = IMap(worker_num=2, worker_type="thread", stride=7, buffer=100, name="pool")
    a = Piper(Worker(ipasser, (0,)), name="a", parallel=pool, timeout=5.0, ordered=False)
    b = Piper(Worker(apply, kwargs={"fn": math.sqrt}), name="b", parallel=pool, branch="x")
    c = Piper(Worker((apply, sjoiner), ((), (None, "-")), ({"fn": str}, {})), name="c",
              debug=False, track=True)
    d = Piper(Worker(ipasser, name="custom"), name="d", produce=2, repeat=True)
    e = Piper(ipasser, name="e", consume=2, track=True)
    p = Plumber()
    p.add_pipe((a, b, c, d, e))
    text, loaded = roundtrip(tmp_path, p, inputs=["[1.0, 4.0]"])
    assert text.count("IMap(") == 1
    assert ("pool = IMap(worker_num=2, worker_type='thread', stride=7, buffer=100, "
            "name='pool')") in text
    assert "from papy_engine.workers.core import ipasser, sjoiner" in text
    assert "from math import sqrt" in text
    desc = read(tmp_path / "p.py")
    assert desc.node("a").options["timeout"] == 5.0 and desc.node("a").options["ordered"] is False
    assert desc.node("b").kwargs == [{"fn": "sqrt"}]
    assert desc.node("c").args == [[], ["None", "'-'"]]
    assert desc.node("c").kwargs == [{"fn": "str"}, {}]
    assert desc.node("d").options["worker_name"] == "custom"
    assert desc.node("d").options["repeat"] is True and desc.node("e").options["consume"] == 2
    la, lb = loaded.get_piper("a"), loaded.get_piper("b")
    assert la.parallel is lb.parallel and la.parallel.stride == 7
    assert loaded.get_piper("d").worker.name == "custom"
    assert sorted(tracked(loaded, [1.0, 4.0])["c"]) == ["1.0", "2.0"]  # a is unordered


def upper(inbox):
    return inbox[0].upper()


def lower(inbox):
    return inbox[0].lower()


def test_fan_in_with_branches_keeps_inbox_order(tmp_path):
    src = Piper(ipasser, name="src")
    late = Piper(upper, name="late", branch=2)
    early = Piper(lower, name="early", branch=1)
    join = Piper(Worker(sjoiner, kwargs={"join": "|"}), name="join", track=True)
    p = Plumber()
    p.add_pipe((src, late, join))
    p.add_pipe((src, early, join))
    p.add_pipe((src, join))
    text, loaded = roundtrip(tmp_path, p, inputs=["['aB']"])
    assert [x.name for x in loaded.parents_of(loaded.get_piper("join"))] == \
        ["src", "early", "late"]
    assert tracked(loaded, ["aB"])["join"] == ["aB|ab|AB"]


def test_unicode_layout_and_inputs(tmp_path):
    p = Plumber()
    p.add_piper(Piper(ipasser, name="only one", track=True))
    layout = {"nodes": {"only one": {"x": 1, "y": 2.5}},
              "notes": {"only one": "Zürich → 東京 ✓ \"quoted\" \\ backslash"}}
    text, loaded = roundtrip(tmp_path, p, inputs=["'héllo'"], layout=layout)
    assert loaded.layout == layout and loaded.inputs_source == ["'héllo'"]
    assert "only_one = Piper(ipasser, name='only one'" in text
    assert tracked(loaded, "hé")["only one"] == ["h", "é"]


def test_docstring_preamble_and_hand_edits_survive(tmp_path):
    path = tmp_path / "hand.py"
    path.write_text(textwrap.dedent('''\
        """My pipeline -- with a "quote" and a \\\\ backslash."""
        import re

        from papy_engine import IMap, Piper, Plumber, Worker
        from papy_engine.workers.core import ipasser, njoiner

        PATTERN = re.compile(r"\\d+")   # a helper constant with a comment


        def digits(inbox, sep=","):
            return sep.join(PATTERN.findall(inbox[0]))


        def pipeline():
            w = Worker(digits, kwargs=dict(sep="+"))
            find = Piper(w, name="find", parallel=False)
            keep = Piper(ipasser, name="keep", track=True)
            pl = Plumber()
            pl.add_pipes([(find, keep)])
            return pl


        INPUTS = [
            ["a1b22", "c333"],
        ]
        '''), encoding="utf-8")
    desc = read(path)
    assert desc.docstring.startswith('My pipeline -- with a "quote"')
    assert "PATTERN = re.compile" in desc.preamble and "# a helper constant" in desc.preamble
    assert "njoiner" in desc.preamble  # an unused import is kept, not lost
    assert desc.node("find").kwargs == [{"sep": '"+"'}]
    text = render(desc)
    assert render(read_text(tmp_path, text)) == text
    loaded = load(path)
    assert tracked(loaded, ["a1b22", "c333"])["keep"] == ["1+22", "333"]
    out = tmp_path / "resaved.py"
    save(loaded, out)
    assert render(read(out)) == out.read_text(encoding="utf-8")
    assert tracked(load(out), ["x9y8"])["keep"] == ["9+8"]


def read_text(tmp_path, text):
    p = tmp_path / "tmp_read.py"
    p.write_text(text, encoding="utf-8")
    return read(p)


# -- the static reader never runs code ---------------------------------------------
def test_read_never_executes(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "side.py"
    path.write_text(textwrap.dedent(f'''\
        from papy_engine import Piper, Plumber
        open({str(marker)!r}, "w").close()

        def f(inbox):
            return inbox[0]

        def pipeline():
            p = Plumber()
            p.add_piper(Piper(f, name="f"))
            return p
        '''), encoding="utf-8")
    desc = read(path)
    assert not marker.exists()
    assert desc.node("f").functions[0].source.startswith("def f(inbox):")
    load(path)
    assert marker.exists()


def test_description_from_data_renders_and_builds():
    desc = PipelineDescription(
        nodes=[NodeDesc("sq", [FuncRef("square", source="def square(inbox, p=2):\n"
                                       "    return inbox[0] ** p\n")],
                        [[]], [{"p": "3"}], {"parallel": "pool", "track": True}),
               NodeDesc("pass", [FuncRef("ipasser", module="papy_engine.workers.core",
                                         qualname="ipasser")], [[]], [{}], {"track": True})],
        resources=[ResourceDesc("pool", {"worker_num": 2})],
        edges=[("sq", "pass")], inputs_source=["range(4)"], layout={}, preamble="")
    text = render(desc)
    assert "Worker(square, kwargs={'p': 3})" in text
    plumber = build(desc)
    assert tracked(plumber, range(4))["pass"] == [0, 1, 8, 27]
    assert wait_until(lambda: multiprocessing.active_children() == [], 10)  # stopped by the run


# -- errors name the file and line --------------------------------------------------
BAD = {
    "syntax": ("from papy_engine import Plumber\n\ndef pipeline(:\n    pass\n", 3),
    "no_pipeline": ("from papy_engine import Plumber\nX = 1\n", 1),
    "unknown_name": ("from papy_engine import Piper, Plumber\n\n\ndef pipeline():\n"
                     "    p = Plumber()\n    a = Piper(nowhere, name='a')\n"
                     "    p.add_piper(a)\n    return p\n", 6),
    "bad_statement": ("from papy_engine import Plumber\n\ndef pipeline():\n"
                      "    p = Plumber()\n    for i in range(3):\n        pass\n    return p\n", 5),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_reader_errors_name_file_and_line(tmp_path, case):
    text, line = BAD[case]
    path = tmp_path / f"{case}.py"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScriptError) as info:
        read(path)
    assert f"{path}:{line}:" in str(info.value)


def test_load_errors_name_file_and_line(tmp_path):
    bad_import = tmp_path / "bad_import.py"
    bad_import.write_text("import os\nfrom no_such_module_xyz import f\n", encoding="utf-8")
    with pytest.raises(ScriptError, match=rf"{bad_import}:2: .*ModuleNotFoundError"):
        load(bad_import)
    late = tmp_path / "late.py"
    late.write_text("from papy_engine import Piper, Plumber\n\n\ndef pipeline():\n"
                    "    p = Plumber()\n    p.add_piper(Piper(missing, name='a'))\n"
                    "    return p\n", encoding="utf-8")
    with pytest.raises(ScriptError, match=rf"{late}:6: pipeline\(\) failed: NameError"):
        load(late)
    for case in ("syntax", "no_pipeline"):
        path = tmp_path / f"{case}.py"
        path.write_text(BAD[case][0], encoding="utf-8")
        with pytest.raises(ScriptError, match=rf"{path}:{BAD[case][1]}:"):
            load(path)
    with pytest.raises(ScriptError, match="cannot read"):
        load(tmp_path / "missing.py")


def test_unsaveable_things_raise_script_error():
    p = Plumber()
    p.add_piper(Piper(functools.partial(apply, fn=abs), name="partial"))
    with pytest.raises(ScriptError, match="partial"):
        script(p)
    lock = multiprocessing.Lock()

    def uses(inbox):
        return lock
    q = Plumber()
    q.add_piper(Piper(uses, name="locky"))
    with pytest.raises(ScriptError, match="locky.*closure variable 'lock'"):
        script(q)


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "keep.py"
    path.write_text("old text\n", encoding="utf-8")
    p = Plumber()
    p.add_piper(Piper(ipasser, name="a"))

    def broken(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        save(p, path)
    assert path.read_text(encoding="utf-8") == "old text\n"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["keep.py"]
