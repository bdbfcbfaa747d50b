"""``papy run --results DIR [--resume [--force]]``: resuming, and what is refused."""
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from helpers import wait_until

from papy_engine.cli import main
from papy_engine.durable import read_journal
from papy_engine.results import read_results

pytestmark = pytest.mark.timeout(60)

PAPY = [sys.executable, "-m", "papy_engine.cli"]

SCRIPT = '''\
import os

from papy_engine import IMap, Piper, Plumber, Worker


def numbers(n):
    fail_at = int(os.environ.get("PAPY_TEST_FAIL_AT", "-1"))
    order = list(range(n))
    if os.environ.get("PAPY_TEST_REVERSE"):
        order.reverse()
    for i in order:
        if i == fail_at:
            raise RuntimeError(f"input failed at {i}")
        yield i


def square(inbox):
    if inbox[0] % 13 == 5:
        raise ValueError(f"bad {inbox[0]}")
    return inbox[0] ** 2


def pair(inbox):
    return [inbox[0], -inbox[0]]


def total(inbox):
    return sum(inbox[0])


def pipeline():
    pool = IMap(worker_num=2, worker_type='thread', name='pool')
    sq = Piper(square, name='square', parallel=pool, ordered=ORDERED)
    pr = Piper(pair, name='pair', produce=2)
    tot = Piper(total, name='total', consume=CONSUME, spawn=SPAWN)
    plumber = Plumber()
    plumber.add_pipe((sq, pr, tot))
    return plumber


INPUTS = [numbers(200)]
'''


def script(tmp_path, ordered=True, consume=2, name="pipe.py", body=SCRIPT):
    path = tmp_path / name
    body = body.replace("ORDERED", repr(ordered)).replace("CONSUME", str(consume))
    path.write_text(body.replace("SPAWN", str(2 // consume)))
    return path


def run(*args, env=None, capsys=None):
    old = dict(os.environ)
    os.environ.update(env or {})
    try:
        code = main(["run", *map(str, args), "--quiet"])
    finally:
        os.environ.clear()
        os.environ.update(old)
    err = capsys.readouterr().err if capsys else ""
    return code, err


def values(path):
    out = []
    for v in read_results(path):
        out.append(("error", v.exc_type, v.piper, v.index) if hasattr(v, "exc_type") else v)
    return out


def test_a_run_writes_a_journal_that_ends_finished_and_cleans_up(tmp_path, capsys):
    code, err = run(script(tmp_path), "--results", tmp_path / "out", capsys=capsys)
    assert code == 1, err          # (placeholders)
    state = read_journal(tmp_path / "out")
    assert state.finished and state.end["exit"] == 1 and state.header["refusal"] is None
    assert state.done.ranges() == [[0, 200]]
    assert sorted(os.listdir(tmp_path / "out")) == [".papy-journal", "total.jsonl"]
    code, err = run(script(tmp_path), "--results", tmp_path / "out", "--resume", capsys=capsys)
    assert code == 1 and "finished; nothing to resume" in err


@pytest.mark.parametrize("ordered", [True, False])
def test_a_failed_run_resumes_to_the_files_of_an_uninterrupted_one(tmp_path, capsys, ordered):
    path = script(tmp_path, ordered=ordered, consume=1 if not ordered else 2)
    run(path, "--results", tmp_path / "ref", capsys=capsys)
    code, err = run(path, "--results", tmp_path / "out", env={"PAPY_TEST_FAIL_AT": "120"},
                    capsys=capsys)
    assert code == 1 and "input failed at 120" in err and "--resume" in err
    state = read_journal(tmp_path / "out")
    assert state.end["state"] == "failed" and state.done
    code, err = run(path, "--results", tmp_path / "out", capsys=capsys)
    assert code == 2 and "holds an unfinished run" in err and "--resume" in err
    code, err = run(path, "--results", tmp_path / "out", "--resume", capsys=capsys)
    assert code == 1 and "resuming the run in" in err, err
    want, got = values(tmp_path / "ref/total.jsonl"), values(tmp_path / "out/total.jsonl")
    if ordered:
        assert got == want
    else:
        assert sorted(map(repr, got)) == sorted(map(repr, want))
        assert len({json.loads(x)["i"] for x in open(tmp_path / "out/total.jsonl")}) == 400


def test_a_changed_script_is_refused_unless_forced(tmp_path, capsys):
    path = script(tmp_path)
    run(path, "--results", tmp_path / "out", env={"PAPY_TEST_FAIL_AT": "50"}, capsys=capsys)
    path.write_text(path.read_text().replace("inbox[0] ** 2", "inbox[0] ** 2 + 0"))
    code, err = run(path, "--results", tmp_path / "out", "--resume", capsys=capsys)
    assert code == 2 and "the script changed" in err
    assert "piper 'square': its function (square) or its arguments changed" in err
    assert "--force" in err
    code, err = run(path, "--results", tmp_path / "out", "--resume", "--force", capsys=capsys)
    assert code == 1 and "resuming despite changes (--force)" in err
    assert len(read_results(tmp_path / "out/total.jsonl")) == 200
    code, err = run(path, "--results", tmp_path / "out", "--force", capsys=capsys)
    assert code == 2 and "--force only applies to --resume" in err


def test_inputs_that_give_other_items_are_caught(tmp_path, capsys):
    path = script(tmp_path)
    run(path, "--results", tmp_path / "out", env={"PAPY_TEST_FAIL_AT": "150"}, capsys=capsys)
    code, err = run(path, "--results", tmp_path / "out", "--resume",
                    env={"PAPY_TEST_REVERSE": "1"}, capsys=capsys)
    assert code == 1 and "does not give the same items as in the interrupted run" in err
    code, err = run(path, "--results", tmp_path / "out", "--resume", capsys=capsys)
    assert code == 1 and "resuming" in err
    assert len(read_results(tmp_path / "out/total.jsonl")) == 200


def test_a_pipeline_that_cannot_be_resumed_says_why(tmp_path, capsys):
    path = script(tmp_path, ordered=False, consume=2)
    code, err = run(path, "--results", tmp_path / "out", env={"PAPY_TEST_FAIL_AT": "50"},
                    capsys=capsys)
    assert code == 1 and "add --resume" not in err
    assert "groups consume=2" in read_journal(tmp_path / "out").header["refusal"]
    code, err = run(path, "--results", tmp_path / "out", "--resume", capsys=capsys)
    assert code == 2 and "cannot resume" in err and "groups consume=2" in err
    assert "make 'square' ordered" in err


def test_results_without_a_journal_are_not_resumed(tmp_path, capsys):
    (tmp_path / "out").mkdir()
    (tmp_path / "out/total.jsonl").write_text('{"i":0,"v":1}\n')
    code, err = run(script(tmp_path), "--results", tmp_path / "out", "--resume", capsys=capsys)
    assert code == 2 and "no journal" in err
    code, err = run(script(tmp_path), "--results", tmp_path / "new", "--resume", capsys=capsys)
    assert code == 1 and "nothing to resume" in err and "starting a new run" in err
    code, err = run(script(tmp_path), "--resume", capsys=capsys)
    assert code == 2 and "need --results" in err


SLOW = '''\
import time

from papy_engine import Piper, Plumber


def slow(inbox):
    time.sleep(0.01)
    return inbox[0]


def pipeline():
    plumber = Plumber()
    plumber.add_piper(Piper(slow, name='slow'))
    return plumber


INPUTS = [range(100000)]

if __name__ == "__main__":
    import sys

    from papy_engine.cli import run_script_main

    sys.exit(run_script_main(pipeline, INPUTS, sys.argv[1:]))
'''


def test_a_second_writer_is_refused_while_the_first_runs(tmp_path):
    path = tmp_path / "slow.py"
    path.write_text(SLOW)
    out = tmp_path / "out"
    first = subprocess.Popen(PAPY + ["run", str(path), "--results", str(out), "--quiet"],
                             stderr=subprocess.PIPE, text=True)
    try:
        assert wait_until(lambda: (out / "slow.jsonl").exists()
                          and (out / "slow.jsonl").stat().st_size > 0, 20)
        second = subprocess.run([sys.executable, str(path), "--results", str(out), "--resume",
                                 "--quiet"], capture_output=True, text=True, timeout=30)
        assert second.returncode == 2
        assert f"is being written by another run (pid {first.pid} on" in second.stderr
    finally:
        first.send_signal(2)        # Ctrl-C: stops gracefully, the run is resumable
        _, err = first.communicate(timeout=30)
    assert first.returncode == 130, err
    assert read_journal(out).end["state"] == "stopped"
    assert not (out / ".papy-lock").exists()


def _slow_double(inbox):
    time.sleep(0.001)          # (the node's work: commits happen while it runs)
    return inbox[0] * 2


def test_a_long_journal_is_rewritten_as_one_record(tmp_path, monkeypatch):
    from papy_engine import Piper, Plumber
    from papy_engine.durable import open_results, writer
    monkeypatch.setattr(writer, "ROTATE", 6)
    p = Plumber()
    p.add_piper(Piper(_slow_double, name="double"))
    session = open_results(tmp_path, p, [range(300)], interval=0.005)
    p.start(session.datas, sinks=session.sinks)
    p.run()
    p.wait(30)
    session.close(p.state, 0)
    lines = (tmp_path / ".papy-journal").read_bytes().count(b"\n")
    state = read_journal(tmp_path)
    assert lines <= 8 and state.finished and state.done.ranges() == [[0, 300]]
    assert read_results(tmp_path / "double.jsonl") == [2 * i for i in range(300)]


def test_a_saved_script_resumes_itself(tmp_path):
    path = tmp_path / "self.py"
    path.write_text(script(tmp_path).read_text() + textwrap.dedent("""

        if __name__ == "__main__":
            import sys

            from papy_engine.cli import run_script_main

            sys.exit(run_script_main(pipeline, INPUTS, sys.argv[1:]))
        """))
    env = dict(os.environ, PAPY_TEST_FAIL_AT="70")
    cmd = [sys.executable, str(path), "--results", str(tmp_path / "out"), "--quiet"]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 1 and "input failed at 70" in first.stderr
    second = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=60)
    assert second.returncode == 1 and "resuming the run" in second.stderr, second.stderr
    assert len(read_results(tmp_path / "out/total.jsonl")) == 200


TWO = '''\
import time

from papy_engine import IMap, Piper, Plumber


def square(inbox):
    return inbox[0] ** 2


def slow_total(inbox):
    time.sleep(0.003)
    return inbox[0] + 1


def pipeline():
    pool = IMap(worker_num=2, worker_type='thread', name='pool')
    plumber = Plumber()
    plumber.add_pipe((Piper(square, name='square', parallel=pool, track=True),
                      Piper(slow_total, name='total', track=True)))
    return plumber


INPUTS = [range(400)]
'''


def test_a_resume_killed_while_compacting_the_files_resumes_later(tmp_path, capsys,
                                                                   monkeypatch):
    """Compacting drops records of incomplete units: a file gets shorter than the
    journal says, until the journal is rewritten.  A crash in between is expected."""
    from killrun import Attempt, result_lines
    from papy_engine.durable import session as session_module
    path = tmp_path / "two.py"
    path.write_text(TWO)
    run(path, "--results", tmp_path / "ref", capsys=capsys)
    out = tmp_path / "out"
    Attempt(path, out).kill_when(lambda: out.exists() and result_lines(out) > 450
                                 and read_journal(out).done)
    real = session_module.compact

    def compact_then_crash(*args, **kwargs):
        real(*args, **kwargs)
        raise KeyboardInterrupt   # the process dies after compacting one file
    monkeypatch.setattr(session_module, "compact", compact_then_crash)
    code, err = run(path, "--results", out, "--resume", capsys=capsys)
    assert code == 130            # (the command line reports the interruption)
    state = read_journal(out)
    assert state.compacting and (out / "square.jsonl").stat().st_size < state.files["square"][0]
    monkeypatch.setattr(session_module, "compact", real)
    code, err = run(path, "--results", out, "--resume", capsys=capsys)
    assert code == 0 and "resuming" in err, err
    for name in ("square.jsonl", "total.jsonl"):
        assert values(out / name) == values(tmp_path / "ref" / name)


def _triple(inbox):
    return inbox[0] * 3


def test_a_run_never_ends_finished_with_a_result_missing(tmp_path):
    from papy_engine import Piper, Plumber, ResultsError
    from papy_engine.durable import open_results
    p = Plumber(stride=10)
    p.add_piper(Piper(_triple, name="triple"))
    session = open_results(tmp_path, p, [range(100)])
    sink, calls = session.sinks["triple"], []

    def lossy(first, results, first_eval):   # a bug that loses one batch
        calls.append(first)
        if len(calls) != 3:
            sink(first, results, first_eval)
    p.start(session.datas, sinks={"triple": lossy})
    p.run()
    assert p.wait(30) and p.state == "finished"
    with pytest.raises(ResultsError, match="not whole: 'triple' has 90 results, 100 expected"):
        session.close("finished", 0)
    state = read_journal(tmp_path)
    assert not state.finished and state.done.ranges() == [[0, 20], [30, 100]]
