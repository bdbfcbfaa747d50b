"""Document <-> PipelineDescription: faithful both ways (no display)."""
import pytest

from papy_engine.script import FuncRef, NodeDesc, PipelineDescription, ResourceDesc
from papy_gui.model import convert

pytestmark = pytest.mark.timeout(30)


def test_convert_round_trip_keeps_layout_shape():
    desc = PipelineDescription(
        nodes=[NodeDesc(name="a", functions=[FuncRef(name="ipasser",
                        module="papy_engine.workers.core", qualname="ipasser", source=None,
                        imports=[])], args=[["1"]], kwargs=[{}], options={"parallel": "p"}),
               NodeDesc(name="b", functions=[FuncRef(name="f", module=None, qualname="f",
                        source="def f(inbox):\n    return 1\n", imports=["re"])],
                        args=[[]], kwargs=[{"k": "2"}], options={})],
        resources=[ResourceDesc(name="p", options={"worker_num": 2})],
        edges=[("a", "b")], inputs_source=["range(5)"],
        layout={"nodes": {"b": {"x": 300, "y": 40}, "a": {"x": 40, "y": 40}},
                "notes": "héllo"}, preamble="import re\n", docstring="Mine.\n")
    doc = convert.from_description(desc)
    assert doc.inputs == {"a": "range(5)"} and not doc.modified
    assert convert.to_description(doc) == desc
    doc.move_nodes({"a": (50, 60)})
    out = convert.to_description(doc)
    assert list(out.layout["nodes"]) == ["b", "a"]
    assert out.layout["nodes"]["a"] == {"x": 50, "y": 60}
    assert out.docstring == "Mine.\n"  # a field the editor does not edit goes back as read
    out.nodes[1].functions[0].imports.append("os")  # a detached copy
    assert doc.nodes["b"].functions[0].imports == ["re"]


def test_convert_without_layout_auto_lays_out_but_does_not_write():
    nd = lambda n: NodeDesc(name=n, functions=[FuncRef(name="ipasser",  # noqa: E731
                            module="papy_engine.workers.core", qualname="ipasser",
                            source=None, imports=[])], args=[[]], kwargs=[{}], options={})
    desc = PipelineDescription(nodes=[nd("a"), nd("b")], resources=[], edges=[("a", "b")],
                               inputs_source=None, layout={}, preamble="")
    doc = convert.from_description(desc)
    assert doc.nodes["a"].x < doc.nodes["b"].x
    assert convert.to_description(doc).layout == {}
