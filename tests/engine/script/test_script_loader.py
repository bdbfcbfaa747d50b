"""The two halves of ``script.build``: ``execute`` (user code, once) and ``make_pipeline``."""
import pytest

from papy_engine import Plumber
from papy_engine.errors import ScriptError
from papy_engine.script import (FuncRef, NodeDesc, PipelineDescription, ScriptSource, build,
                                describe, execute, load, make_pipeline, render, source_of)

pytestmark = pytest.mark.timeout(60)

PREAMBLE = "RUNS.append('module code ran')\nOFFSET = 10\n"


def description(preamble: str = PREAMBLE) -> PipelineDescription:
    shift = FuncRef("shift", source="def shift(inbox):\n    return inbox[0] + OFFSET\n")
    return PipelineDescription(
        nodes=[NodeDesc("shift", [shift], [[]], [{}], {"track": True})],
        resources=[], edges=[], inputs_source=["range(3)"], layout={"nodes": {}},
        preamble=preamble, docstring="Shift by ten.\n")


def results(plumber) -> list:
    plumber.start([range(3)])
    plumber.run()
    assert plumber.wait(timeout=30)
    return plumber.results["shift"]


def test_execute_runs_module_code_once_and_builds_nothing():
    ns = {"RUNS": []}
    assert execute(description(), ns) is ns
    assert ns["RUNS"] == ["module code ran"]
    assert callable(ns["pipeline"]) and callable(ns["shift"]) and ns["OFFSET"] == 10
    assert not any(isinstance(v, Plumber) for v in ns.values())


def test_make_pipeline_calls_pipeline_without_executing_again():
    desc = description()
    ns = execute(desc, {"RUNS": []})
    first, second = make_pipeline(ns, desc), make_pipeline(ns, desc)
    assert ns["RUNS"] == ["module code ran"]
    assert first is not second
    assert results(first) == [10, 11, 12] and results(second) == [10, 11, 12]


def test_make_pipeline_attaches_inputs_layout_and_provenance():
    desc = description()
    plumber = make_pipeline(execute(desc, {"RUNS": []}), desc)
    assert plumber.inputs_source == ["range(3)"] and plumber.inputs_source is not \
        desc.inputs_source
    assert plumber.layout == {"nodes": {}} and plumber.layout is not desc.layout
    assert source_of(plumber) == ScriptSource(PREAMBLE, "Shift by ten.\n")
    assert describe(plumber).preamble == PREAMBLE.rstrip("\n") + "\n"
    assert describe(plumber).docstring == "Shift by ten.\n"


def test_build_is_execute_then_make_pipeline():
    desc = description()
    ns = {"RUNS": []}
    assert results(build(desc, ns)) == [10, 11, 12]
    assert ns["RUNS"] == ["module code ran"]
    assert render(describe(build(desc, {"RUNS": []}))) == render(desc)


def test_make_pipeline_errors_name_the_line_of_the_rendered_script():
    desc = description()
    ns = execute(desc, {"RUNS": []})

    def broken():
        raise ValueError("no pipeline today")
    ns["pipeline"] = broken
    with pytest.raises(ScriptError, match="pipeline\\(\\) failed: ValueError: no pipeline"):
        make_pipeline(ns, desc)
    with pytest.raises(ScriptError, match="defines no pipeline\\(\\) function"):
        make_pipeline({}, desc)


def test_execute_errors_name_the_line_of_the_rendered_script():
    desc = description(preamble="RUNS.append(1)\nraise RuntimeError('bad preamble')\n")
    with pytest.raises(ScriptError, match=r"<papy-script-\d+>:\d+: running the script failed: "
                                          "RuntimeError: bad preamble"):
        execute(desc, {"RUNS": []})


def test_a_plumber_made_in_code_or_loaded_from_an_odd_script_has_no_provenance(tmp_path):
    assert source_of(Plumber()) is None
    odd = tmp_path / "odd.py"
    odd.write_text("from papy_engine import Piper, Plumber\n\n"
                   "def pipeline():\n"
                   "    p = Plumber()\n"
                   "    for n in ('a', 'b'):\n"
                   "        p.add_piper(Piper(abs, name=n))\n"
                   "    return p\n", encoding="utf-8")
    assert source_of(load(odd)) is None
