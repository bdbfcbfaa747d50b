"""The journal (torn tails, CRCs), result-file compaction, the folder lock, fingerprints."""
import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from helpers import wait_until

from papy_engine import Piper, Plumber, ResultsError
from papy_engine.durable import DirLock, read_journal
from papy_engine.durable.files import compact, record_key, sort_file
from papy_engine.durable.fingerprint import differences, fingerprint
from papy_engine.durable.journal import JOURNAL, Journal, decode_line, encode_line
from papy_engine.results import encode

pytestmark = pytest.mark.timeout(60)


def _journal(tmp_path, commits):
    j = Journal(tmp_path, {"fingerprint": {}, "files": {"a": "a.jsonl"}},
                {"files": {"a": [0, 0]}, "done": []})
    for c in commits:
        j.append(dict(c, kind="commit"))
    j.close()
    return tmp_path / JOURNAL


def test_a_line_is_json_a_tab_and_its_crc():
    line = encode_line({"kind": "commit", "done": [[0, 3]]})
    assert line.endswith(b"\n") and b"\t" in line
    assert decode_line(line) == {"kind": "commit", "done": [[0, 3]]}
    assert decode_line(line[:-1]) is None                          # no newline: torn
    assert decode_line(line.replace(b"3]]", b"4]]")) is None        # bad CRC


def test_a_torn_tail_anywhere_in_the_last_record_is_ignored(tmp_path):
    path = _journal(tmp_path, [{"done": [[0, 5]], "files": {"a": [50, 5]}},
                               {"done": [[5, 9]], "files": {"a": [90, 9]}}])
    data = path.read_bytes()
    last = data.rindex(b"\n", 0, len(data) - 1) + 1
    for cut in range(last, len(data) + 1):
        path.write_bytes(data[:cut])
        state = read_journal(tmp_path)
        if cut == len(data):
            assert state.done.ranges() == [[0, 9]] and state.files["a"] == [90, 9]
        else:
            assert state.done.ranges() == [[0, 5]] and state.files["a"] == [50, 5]
            assert state.torn == cut - last


def test_garbage_after_a_torn_record_is_not_trusted(tmp_path):
    path = _journal(tmp_path, [{"done": [[0, 5]]}, {"done": [[5, 9]]}, {"done": [[9, 12]]}])
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3][:10] + b"\x00" * 5 + lines[3][15:]        # the 2nd commit is damaged
    path.write_bytes(b"\n".join(lines))
    assert read_journal(tmp_path).done.ranges() == [[0, 5]]


def test_no_journal_and_not_a_journal(tmp_path):
    assert read_journal(tmp_path) is None
    (tmp_path / JOURNAL).write_bytes(encode_line({"kind": "commit"}))
    with pytest.raises(ValueError, match="not a PaPy results journal"):
        read_journal(tmp_path)


def _records(path, pairs, e=False):
    path.write_text("".join(encode(i, v, i if e else None) + "\n" for i, v in pairs))


def test_compact_truncates_to_the_claim_and_to_complete_units(tmp_path):
    path = tmp_path / "a.jsonl"
    _records(path, [(i, i * 10) for i in range(10)])
    claim = len("".join(encode(i, i * 10) + "\n" for i in range(8)))
    with open(path, "a") as f:
        f.write('{"i":10,"v":1')                                   # a torn tail
    st = compact(path, claim, lambda i, e: i < 6, loose=False)
    assert st.records == 6 and st.last_i == 5 and st.sorted
    assert [record_key(line.encode())[0] for line in path.read_text().splitlines()] == \
        list(range(6))


def test_compact_rewrites_out_of_order_and_loose_files(tmp_path):
    path = tmp_path / "o.jsonl"
    _records(path, [(0, "a"), (1, "b"), (4, "e"), (5, "f"), (2, "c"), (3, "d"), (6, "g")])
    st = compact(path, path.stat().st_size, lambda i, e: i != 5, loose=False)
    assert [json.loads(x)["v"] for x in path.read_text().splitlines()] == list("abcdeg")
    assert st.records == 6 and st.size == path.stat().st_size
    loose = tmp_path / "l.jsonl"
    _records(loose, [(i, v) for i, v in enumerate("abcdef")], e=True)
    compact(loose, loose.stat().st_size, lambda i, e: e % 2 == 0, loose=True)
    recs = [json.loads(x) for x in loose.read_text().splitlines()]
    assert [(r["i"], r["e"], r["v"]) for r in recs] == [(0, 0, "a"), (1, 2, "c"), (2, 4, "e")]
    with pytest.raises(ResultsError, match="journal says"):
        compact(loose, 10_000, lambda i, e: True, loose=True)
    sort_file(path)
    assert not list(tmp_path.glob("*.tmp"))


def test_a_second_writer_is_refused_in_this_process(tmp_path):
    with DirLock(tmp_path):
        with pytest.raises(ResultsError, match="another run in this process"):
            DirLock(tmp_path).acquire()
    with DirLock(tmp_path):   # released: it can be taken again
        pass
    assert not (tmp_path / ".papy-lock").exists()


HOLD = textwrap.dedent("""
    import sys, time
    from papy_engine.durable import DirLock
    DirLock(sys.argv[1]).acquire()
    print("locked", flush=True)
    sys.stdin.read()
""")


def test_a_second_writer_is_refused_and_a_killed_holder_frees_the_folder(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(ResultsError, match=rf"another run \(pid {proc.pid} on "):
            DirLock(tmp_path).acquire()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        proc.stdin.close()
        proc.stdout.close()
    assert (tmp_path / ".papy-lock").exists()          # left behind by kill -9 ...
    with DirLock(tmp_path):                             # ... but not locked
        pass


def sq(inbox):
    return inbox[0] ** 2


def cube(inbox):
    return inbox[0] ** 3


def _pipeline(func=sq, produce=1):
    p = Plumber()
    p.add_pipe((Piper(func, name="a", produce=produce), Piper(sq, name="b", spawn=produce)))
    p.inputs_source = ["range(10)"]
    return p


def test_the_fingerprint_says_what_changed():
    base = fingerprint(_pipeline())
    assert differences(base, fingerprint(_pipeline())) == []
    assert differences(base, fingerprint(_pipeline(cube))) == \
        ["piper 'a': its function (cube) or its arguments changed"]
    assert "piper 'a': produce 1 -> 2" in differences(base, fingerprint(_pipeline(produce=2)))
    other = _pipeline()
    other.inputs_source = ["range(11)"]
    assert differences(base, fingerprint(other)) == ["INPUTS changed"]
    extra = _pipeline()
    extra.add_pipe((extra.get_piper("b"), Piper(cube, name="c")))
    assert set(differences(base, fingerprint(extra))) == {
        "piper 'c' is new", "the pipes between the pipers changed"}
