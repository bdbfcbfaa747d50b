"""The ``papy`` command line: run (exit codes, progress, Ctrl-C), graph, dispatch."""
import io
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from helpers import ROOT

from papy_engine import Piper, Plumber, is_placeholder
from papy_engine.cli import main, parse_workers, run_script_main
from papy_engine.cli.progress import Progress, summary

EXAMPLES = ROOT / "examples"
PAPY = [sys.executable, "-m", "papy_engine.cli"]

pytestmark = pytest.mark.timeout(60)


def papy(*args, cwd=None, env=None, timeout=30):
    return subprocess.run(PAPY + [str(a) for a in args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


def write(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


FAILING = '''\
    from papy_engine import Piper, Plumber


    def check(inbox):
        if inbox[0] % 3 == 0:
            raise ValueError(f"bad item {inbox[0]}")
        return inbox[0]


    def show(inbox):
        print("result", inbox[0])
        return inbox[0]


    def pipeline():
        plumber = Plumber()
        plumber.add_pipe((Piper(check, name="check"), Piper(show, name="show")))
        return plumber


    INPUTS = [range(7)]

    if __name__ == "__main__":
        import sys

        from papy_engine.cli import run_script_main

        sys.exit(run_script_main(pipeline, INPUTS, sys.argv[1:]))
'''

SLOW = '''\
    import time

    from papy_engine import IMap, Piper, Plumber, Worker


    def slow(inbox):
        time.sleep(0.02)
        return inbox[0]


    def show(inbox):
        print("result", inbox[0], flush=True)
        return inbox[0]


    def pipeline():
        pool = IMap(worker_num=2, worker_type="thread", stride=4, name="pool")
        work = Piper(slow, name="work", parallel=pool)
        out = Piper(show, name="out")
        plumber = Plumber()
        plumber.add_pipe((work, out))
        return plumber


    INPUTS = [range(100000)]
'''


def table(stderr: str) -> dict[str, dict[str, int]]:
    """Per-piper rows of the summary table: name -> {in, out, errors}."""
    rows = {}
    for line in stderr.splitlines():
        m = re.match(r"\s+(\S+)\s+(finished|stopped|failed|running|stopping)\s+(\d+)\s+(\d+)"
                     r"\s+(\d+)", line)
        if m:
            rows[m[1]] = {"in": int(m[3]), "out": int(m[4]), "errors": int(m[5])}
    return rows


# -- run ---------------------------------------------------------------------------
def test_run_example_exit_0_from_any_cwd(tmp_path):
    res = papy("run", EXAMPLES / "wordfreq.py", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "gettysburg.txt" in res.stdout          # pipeline output on stdout
    assert "finished" in res.stderr and "0 error(s)" in res.stderr  # summary on stderr
    rows = table(res.stderr)
    assert set(rows) == {"read", "words", "stats", "report"}
    assert all(r["in"] == r["out"] == 4 for r in rows.values())


def test_python_script_behaves_like_papy_run(tmp_path):
    res = subprocess.run([sys.executable, EXAMPLES / "montecarlo.py", "--quiet"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("pi ~") == 8
    assert "finished" in res.stderr and "busy_s" not in res.stderr  # --quiet: brief summary


def test_placeholders_exit_1_and_name_the_first_error(tmp_path):
    path = write(tmp_path, "failing.py", FAILING)
    for cmd in (PAPY + ["run", str(path)], [sys.executable, str(path)]):
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        assert res.returncode == 1, res.stderr
        assert res.stdout.count("result") == 4  # 1, 2, 4, 5
        assert "check: 3 placeholder(s); first: ValueError: bad item 0 (item 0)" in res.stderr
        assert table(res.stderr)["check"] == {"in": 7, "out": 7, "errors": 3}


def test_load_and_usage_errors_exit_2(tmp_path):
    bad = write(tmp_path, "bad.py", "from papy_engine import Plumber\n\ndef pipeline(:\n")
    res = papy("run", bad)
    assert res.returncode == 2 and f"{bad}:3: syntax error" in res.stderr
    res = papy("run", tmp_path / "missing.py")
    assert res.returncode == 2 and "cannot read" in res.stderr
    no_inputs = write(tmp_path, "no_inputs.py", FAILING.replace("INPUTS = [range(7)]",
                                                                "INPUTS = None"))
    res = papy("run", no_inputs)
    assert res.returncode == 2 and "defines no INPUTS" in res.stderr
    res = papy("run", EXAMPLES / "where.py", "--workers", "host:18812")
    assert res.returncode == 2 and "expected HOST:PORT#N" in res.stderr
    res = papy("run", EXAMPLES / "where.py", "--stride", "0")
    assert res.returncode == 2
    assert papy("frobnicate").returncode == 2


def test_parse_workers():
    assert parse_workers("a:1#2,10.0.0.5:18812#16") == [("a:1", 2), ("10.0.0.5:18812", 16)]
    assert parse_workers("[::1]:18812#1") == [("[::1]:18812", 1)]
    for bad in ("a:1", "a#2", ":1#2", "a:0#1", "a:70000#1", "a:1#0", "a:1#x", "a:1#2,"):
        with pytest.raises(ValueError, match="HOST:PORT#N"):
            parse_workers(bad)


def test_plain_progress_lines_off_tty(tmp_path):
    path = write(tmp_path, "slowish.py", SLOW.replace("range(100000)", "range(60)"))
    res = papy("run", path, "--interval", "0.1", "--stride", "8", timeout=40)
    assert res.returncode == 0, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("papy: [")]
    assert len(lines) >= 2
    assert re.search(r"work \d+>\d+", lines[-1]) and "pulled work=" in lines[-1]
    assert "\x1b[" not in res.stderr  # no terminal control codes in a pipe


def test_log_file_and_level(tmp_path):
    log = tmp_path / "run.log"
    res = papy("run", EXAMPLES / "where.py", "--log", log, "--log-level", "debug", "--quiet")
    assert res.returncode == 0, res.stderr
    text = log.read_text(encoding="utf-8")
    assert "pipeline running -> finished" in text and "DEBUG" in text


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind,group", [("thread", False), ("process", True)],
                         ids=["threads, SIGINT to papy", "processes, Ctrl-C to the group"])
def test_sigint_stops_gracefully_and_nothing_is_lost(tmp_path, kind, group):
    # A terminal's Ctrl-C signals the whole process group, workers included:
    # a worker process that took it failed the run ("WorkerError:
    # KeyboardInterrupt", exit 1) instead of letting the run stop.
    path = write(tmp_path, "slow.py", SLOW.replace('worker_type="thread"',
                                                   f'worker_type="{kind}"'))
    out_path = tmp_path / "stdout.txt"
    with open(out_path, "w") as out:
        proc = subprocess.Popen(PAPY + ["run", str(path), "--interval", "0.1"], stdout=out,
                                stderr=subprocess.PIPE, text=True, start_new_session=group)
        try:
            seen = []
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                line = proc.stderr.readline()
                seen.append(line)
                m = re.search(r"out (\d+)>(\d+)", line)
                if m and int(m[2]) >= 5:
                    break
            else:
                pytest.fail("no progress output:\n" + "".join(seen))
            if group:
                os.killpg(proc.pid, signal.SIGINT)
            else:
                proc.send_signal(signal.SIGINT)
            rest = proc.stderr.read()
            rc = proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert rc == 130, rest
    assert "stopping" in rest and "stopped in" in rest
    rows = table(rest)
    pulled = int(re.search(r"stopped in [\d.]+ s: (\d+) input item", rest)[1])
    assert 5 <= pulled < 100000
    assert rows["work"] == {"in": pulled, "out": pulled, "errors": 0}
    assert rows["out"] == {"in": pulled, "out": pulled, "errors": 0}
    printed = out_path.read_text().splitlines()
    assert printed == [f"result {i}" for i in range(pulled)]


# -- graph ---------------------------------------------------------------------------
def test_graph_prints_dot_without_running_the_script(tmp_path):
    marker = tmp_path / "ran"
    src = (EXAMPLES / "wordfreq.py").read_text(encoding="utf-8")
    path = tmp_path / "wf.py"
    path.write_text(src.replace("import pathlib\n",
                                f"import pathlib\nopen({str(marker)!r}, 'w').close()\n"),
                    encoding="utf-8")
    res = papy("graph", path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith('digraph "wf" {')
    for edge in ('"read" -> "words"', '"words" -> "report"', '"read" -> "report"'):
        assert edge in res.stdout
    assert not marker.exists()
    out = tmp_path / "g.dot"
    assert papy("graph", path, "-o", out).returncode == 0
    assert out.read_text() == res.stdout


def test_graph_image_without_graphviz_says_how_to_get_it(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))  # no 'dot' on this PATH
    res = papy("graph", EXAMPLES / "where.py", "-o", tmp_path / "g.png", env=env)
    assert res.returncode == 2
    assert "Graphviz is not installed" in res.stderr and "apt install graphviz" in res.stderr
    res = papy("graph", EXAMPLES / "where.py", "--format", "svg", env=env)
    assert res.returncode == 2 and "needs -o FILE" in res.stderr


# -- help, version, dispatch ------------------------------------------------------------
def test_version_and_help(capsys):
    assert main(["--version"]) == 0
    assert re.match(r"papy \d+\.\d+", capsys.readouterr().out)
    for argv in (["--help"], ["run", "--help"], ["graph", "--help"]):
        assert main(argv) == 0
        assert "examples:" in capsys.readouterr().out
    assert main([]) == 2


def test_run_script_main_in_process(capsys):
    from papy_engine import Piper, Plumber

    def double(inbox):
        return inbox[0] * 2

    def pipeline():
        p = Plumber()
        p.add_piper(Piper(double, name="double"))
        return p
    assert run_script_main(pipeline, [range(5)], ["--quiet"], prog="x.py") == 0
    assert "x.py finished" in capsys.readouterr().err
    assert run_script_main(pipeline, lambda: [["a", None]], [], prog="x.py") == 1
    err = capsys.readouterr().err
    assert "double: 1 placeholder(s); first: TypeError" in err
    assert run_script_main(pipeline, [range(2), range(2)], [], prog="x.py") == 2
    assert "one iterable per input piper" in capsys.readouterr().err


# -- progress rendering --------------------------------------------------------------------
STATS = {"state": "running", "elapsed_s": 2.0, "inputs": {"a": 10},
         "progress": {"done": 10, "total": 20, "paused_s": 0.0},
         "pipers": {"a": {"in": 10, "out": 9, "errors": 1, "timeouts": 0, "busy_s": 1.5,
                          "throughput": 5.0, "state": "running"}}}


def test_progress_tty_table_and_plain_lines():
    stream = io.StringIO()
    prog = Progress(stream, tty=True, label="x.py")
    prog.update(STATS)
    prog.update(STATS, force=True)
    text = stream.getvalue()
    assert "\x1b[J" in text and "\x1b[5F" in text  # redrawn in place (5 lines)
    assert re.search(r"a\s+running\s+10\s+9\s+1\s+5\.0", text)
    assert "[############------------]  50.0%  5.0 items/s  ETA 0:00:02" in text
    assert Progress.line(STATS) == ("papy: [    2.0s] running  | [#####-----]  50.0%  5.0 "
                                    "items/s  ETA 0:00:02 | pulled a=10 | a 10>9 !1 5.0/s")
    quiet = io.StringIO()
    Progress(quiet, tty=False, quiet=True).update(STATS, force=True)
    assert quiet.getvalue() == ""
    s = summary(dict(STATS, state="finished"), {"a": {"exc_type": "KeyError", "message": "'k'",
                                                      "index": 3}}, "x.py")
    assert "a: 1 placeholder(s); first: KeyError: 'k' (item 3)" in s


def test_progress_without_a_known_total_shows_a_count_and_rate():
    stats = dict(STATS, progress={"done": 1234, "total": None, "paused_s": 1.0})
    assert "1,234 done  1,234 items/s" in Progress.line(stats)


def _pairs(inbox):
    return (inbox[0], -inbox[0])


def _odd_fails(inbox):
    if inbox[0] % 2:
        raise ValueError(f"odd {inbox[0]}")
    return inbox[0]


def test_run_writes_results_as_json_lines(tmp_path):
    from papy_engine.results import read_results
    script = tmp_path / "p.py"
    p = Plumber()
    p.add_pipe((Piper(_pairs, name="pairs", produce=2),
                Piper(_odd_fails, name="last", spawn=2)))
    p.save(script, inputs=["range(5)"])
    out = tmp_path / "out"
    proc = subprocess.run([*PAPY, "run", str(script), "--results", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr          # odd items became placeholders
    assert "results in" in proc.stderr and "last.jsonl" in proc.stderr
    got = read_results(out / "last.jsonl")
    assert [r for r in got if not is_placeholder(r)] == [0, 0, 2, -2, 4, -4]
    assert [r.index for r in got if is_placeholder(r)] == [2, 3, 6, 7]
    # the journal that makes the run resumable (issue 17), and no lock left behind
    assert sorted(x.name for x in out.iterdir()) == [".papy-journal", "last.jsonl"]
