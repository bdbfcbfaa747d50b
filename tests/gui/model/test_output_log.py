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
    lines, contiguous = log.since(1)
    assert contiguous and [t for _, _, t in lines] == ["two", "x"]
    assert log.since(3) == ([], True)


def test_a_partial_line_waits_for_its_own_node_until_the_run_ends():
    log = OutputLog()
    log.add("a", "hel")
    log.add("b", "b1\n")
    log.add("a", "lo\nwor")
    assert [(n, t) for _, n, t in log.lines] == [("b", "b1"), ("a", "hello")]
    log.flush()
    assert log.lines[-1][1:] == ("a", "wor")


def test_bounded_by_lines_and_characters_and_line_length():
    log = OutputLog(lines=3, chars=1000, line_chars=10)
    log.add("a", "".join(f"{i}\n" for i in range(5)))
    assert [t for _, _, t in log.lines] == ["2", "3", "4"] and log.dropped == 2
    lines, contiguous = log.since(0)  # lines 1-2 are gone: a view must redraw
    assert not contiguous and len(lines) == 3
    log.add("a", "x" * 25 + "\n")
    assert log.lines[-1][2] == "x" * 10 + " … (15 more characters)"
    small = OutputLog(lines=100, chars=10)
    small.add("a", "12345\n67890\nabcde\n")
    assert [t for _, _, t in small.lines] == ["67890", "abcde"]
