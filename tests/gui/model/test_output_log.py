"""What node functions printed: lines per node, partial lines, bounds (no display)."""
import pytest

from papy_gui.model.output_log import OutputLog

pytestmark = pytest.mark.timeout(30)


def test_lines_keep_their_node_and_order():
    log = OutputLog()
    log.add("a", "one\ntwo\n")
    log.add("b", "x\n")
    assert [(n, t) for _, n, t in log.lines] == [("a", "one"), ("a", "two"), ("b", "x")]
    assert log.nodes == {"a": 2, "b": 1}
    lines, missing = log.since(1)
    assert missing == 0 and [t for _, _, t in lines] == ["two", "x"]
    assert log.since(3) == ([], 0)
    lines, missing = log.since(0, limit=1)  # only the newest, and how many were left out
    assert [t for _, _, t in lines] == ["x"] and missing == 2


def test_a_partial_line_waits_for_its_own_node_until_the_run_ends():
    log = OutputLog()
    log.add("a", "hel")
    log.add("b", "b1\n")
    log.add("a", "lo\nwor")
    assert [(n, t) for _, n, t in log.lines] == [("b", "b1"), ("a", "hello")]
    log.flush()
    assert log.lines[-1][1:] == ("a", "wor")


def test_bounded_by_lines_and_line_length():
    log = OutputLog(lines=3, line_chars=10)
    log.add("a", "".join(f"{i}\n" for i in range(5)))
    assert [t for _, _, t in log.lines] == ["2", "3", "4"] and log.dropped == 2
    lines, missing = log.since(0)  # lines 1-2 are gone: a view must redraw
    assert missing == 2 and len(lines) == 3
    log.add("a", "x" * 25 + "\n" + "dos\r\n")
    assert [t for _, _, t in log.lines][-2:] == ["x" * 10 + " … (15 more characters)", "dos"]
    log.add("b", "".join(f"{i}\n" for i in range(1000)))  # one huge batch
    assert [t for _, _, t in log.lines] == ["997", "998", "999"]
    assert log.seq == 1007 and log.nodes == {"a": 7, "b": 1000}
