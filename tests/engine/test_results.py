"""Results on disk: JSON lines that give back exactly what the piper produced."""
import json
import math

import pytest

from papy_engine import Piper, Plumber, PiperError, WorkerError
from papy_engine.results import ResultsWriter, file_name, pipers_to_write, read_results

VALUES = [0, -3, 2.5, "text", None, True, [1, [2, "x"]], {"k": [1, 2]},
          (1, 2), {1: "int key"}, {3, 4}, b"bytes", float("inf"), complex(1, 2),
          WorkerError("boom", exc_type="ValueError", piper="p", index=7, function="f"),
          PiperError("late", exc_type="TimeoutError", piper="p", index=8)]


def test_every_value_comes_back_exactly_and_json_ones_stay_readable(tmp_path):
    w = ResultsWriter(tmp_path, ["p"])
    w.sink("p")(0, VALUES[:8])
    w.sink("p")(8, VALUES[8:])
    w.close()
    got = read_results(tmp_path / "p.jsonl")
    assert len(got) == len(VALUES)
    for a, b in zip(got, VALUES):
        if isinstance(b, float) and math.isinf(b):
            assert math.isinf(a)
        else:
            assert a == b and type(a) is type(b)
    lines = (tmp_path / "p.jsonl").read_text().splitlines()
    assert json.loads(lines[6]) == {"i": 6, "v": [1, [2, "x"]]}    # plain JSON
    assert "pickle" in json.loads(lines[8])                          # a tuple is pickled
    assert json.loads(lines[14])["error"]["exc_type"] == "ValueError"


def test_a_torn_last_record_is_dropped_and_a_broken_middle_one_raises(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"i":0,"v":1}\n{"i":1,"v":2}\n{"i":2,"v"')
    assert read_results(path) == [1, 2]
    path.write_text('{"i":0,"v":1}\n{"i":1,"v\n{"i":2,"v":3}\n')
    with pytest.raises(ValueError, match="p.jsonl:2"):
        read_results(path)


def test_which_pipers_and_file_names():
    a, b, c = Piper(abs, name="a"), Piper(abs, name="b b"), Piper(abs, name="c")
    p = Plumber()
    p.add_pipe((a, b))
    p.add_pipe((a, c))
    assert pipers_to_write(p) == ["b b", "c"]          # the outputs, when none is tracked
    a.track = True
    assert pipers_to_write(p) == ["a"]
    assert file_name("b b") == "b_b.jsonl" and file_name("../x") == "_x.jsonl"


def _pair(inbox):
    return (inbox[0], -inbox[0])


def test_a_sink_learns_which_evaluation_each_result_came_from():
    from papy_engine import IMap
    seen = []
    p = Plumber()
    p.add_piper(Piper(_pair, parallel=IMap(worker_num=2, ordered=False), produce=2,
                      name="pair"))
    p.start([range(200)], sinks={"pair": lambda first, results, ev: seen.append(
        (first, list(results), ev))})
    p.run()
    assert p.wait(30)
    assert [r for _, rs, _ in sorted(seen) for r in rs] == \
        [r for _, rs, _ in seen for r in rs]             # first = position in the output
    for _, results, first_eval in seen:
        for k, r in enumerate(results):
            assert abs(r) == first_eval + k // 2         # the evaluation (= input) it came from
    assert sorted(abs(r) for _, rs, _ in seen for r in rs) == sorted(list(range(200)) * 2)
