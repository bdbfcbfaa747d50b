"""How the Data view shows a value: type, size, preview, parts, Show all (no display)."""
import pytest

from papy_engine import WorkerError
from papy_engine.peek import Truncated
from papy_gui.model import preview

pytestmark = pytest.mark.timeout(30)


def test_strings_and_numbers_read_as_text():
    assert preview.preview("hello\nworld") == "hello ⏎ world"
    assert preview.preview(42) == "42" and preview.preview(2.5) == "2.5"
    assert preview.type_name("x") == "str" and preview.size_text("abc") == "3 chars"
    assert preview.size_text(b"ab") == "2 bytes" and preview.size_text(7) == ""


def test_long_values_are_cut_and_containers_summarised():
    text = preview.preview("x" * 10_000)
    assert len(text) == preview.PREVIEW_CHARS and text.endswith("…")
    big = list(range(100_000))
    line = preview.preview(big)
    assert len(line) <= preview.PREVIEW_CHARS and "..." in line  # reprlib, never the whole list
    assert preview.size_text(big) == "100,000 items"


def test_containers_open_into_bounded_parts():
    assert preview.expandable([1]) and preview.expandable({"a": 1})
    assert not preview.expandable([]) and not preview.expandable("abc")
    parts, more = preview.children({"a": 1, "b": [2, 3]})
    assert parts == [("'a'", 1), ("'b'", [2, 3])] and more == 0
    parts, more = preview.children(list(range(500)))
    assert len(parts) == preview.CHILDREN and parts[3] == ("[3]", 3) and more == 300
    parts, _ = preview.children({7})
    assert parts == [("•", 7)]


def test_placeholders_and_stand_ins():
    err = WorkerError("no threes", exc_type="ValueError", traceback="Traceback...\n",
                      piper="work", index=3)
    assert preview.preview(err) == "ValueError: no threes"
    assert "item 3" in preview.full_text(err) and "Traceback..." in preview.full_text(err)
    big = Truncated("bytes", 5_000_000, "b'\\x00\\x00...")
    assert preview.type_name(big) == "bytes" and preview.size_text(big) == "~4.8 MiB"
    assert "Only the start of this bytes was kept" in preview.full_text(big)


def test_show_all_is_whole_but_bounded():
    value = {"k": list(range(50))}
    assert preview.full_text(value).count("\n") > 5  # pretty-printed
    assert preview.full_text("a" * 30, limit=10) == "a" * 10 + "\n… (20 more characters not shown)"


def test_a_value_that_fails_to_show_does_not_break_the_view():
    class Bad:
        def __repr__(self):
            raise RuntimeError("boom")
    assert preview.preview(Bad()).startswith("<Bad instance")  # reprlib's own fallback
    assert preview.full_text([Bad()]) == "<cannot show: RuntimeError: boom>"
