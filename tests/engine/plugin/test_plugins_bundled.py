"""The bundled plugin nodes (papy_plugins.*) on real files in tmp_path."""
from __future__ import annotations

import json
import math
import os
import pickle
import statistics
import subprocess
import sys
import time

import pytest

from papy_engine.errors import WorkerError
from papy_engine.worker import Worker
from papy_plugins import files, numbers, parallel, records, sequences, shell, text

PY = sys.executable

POEM = """The quick brown fox
jumps over the lazy dog.

The dog didn't mind; the fox's well-being mattered.
"""


# -- files ------------------------------------------------------------------------

def test_files_glob_read_and_lines(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text(POEM)
    (tmp_path / "b.txt").write_bytes(b"\x00\x01bytes")
    (tmp_path / "sub" / "c.txt").write_text("deep\n")
    (tmp_path / "d.csv").write_text("x\n")
    found = files.glob_files((tmp_path,), "*.txt")
    assert found == [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]
    assert files.glob_files((str(tmp_path),), "**/*.txt", recursive=True)[-1].endswith("c.txt")
    assert str(tmp_path / "sub") in files.glob_files((tmp_path,), files_only=False)
    with pytest.raises(NotADirectoryError):
        files.glob_files((tmp_path / "a.txt",))
    assert files.read_text((found[0],)) == POEM
    assert files.read_bytes((found[1],)) == b"\x00\x01bytes"
    lines = files.read_lines((found[0],))
    assert lines[0] == "The quick brown fox" and lines[2] == "" and len(lines) == 4
    assert len(files.read_lines((found[0],), skip_empty=True)) == 3
    assert files.read_lines((found[0],), strip=False)[0] == "The quick brown fox\n"


def test_files_write_file_and_save_as(tmp_path):
    out = tmp_path / "out"
    p1 = files.write_file(("héllo",), folder=str(out), suffix=".txt")
    p2 = files.write_file((b"\xff",), folder=str(out), prefix="bin-", suffix=".bin")
    assert p1 != p2 and os.path.dirname(p1) == str(out)
    assert open(p1, encoding="utf-8").read() == "héllo" and open(p2, "rb").read() == b"\xff"
    with pytest.raises(TypeError, match="str or bytes"):
        files.write_file(({"a": 1},), folder=str(out))
    assert sorted(os.listdir(out)) == sorted([os.path.basename(p1), os.path.basename(p2)])
    target = tmp_path / "deep" / "x.json"
    assert files.save_as((str(target), '{"a": 1}')) == str(target)
    files.save_as((target, '{"a": 2}'))
    assert json.loads(target.read_text()) == {"a": 2}
    with pytest.raises(FileExistsError):
        files.save_as((target, "x"), overwrite=False)
    assert [p.name for p in target.parent.iterdir()] == ["x.json"]  # no temp files left


# -- text -------------------------------------------------------------------------

def test_text_nodes_on_a_file(tmp_path):
    path = tmp_path / "poem.txt"
    path.write_text(POEM)
    poem = files.read_text((path,))
    assert text.split(("a,b,,c",), ",") == ["a", "b", "", "c"]
    assert text.split(("  a  b ",)) == ["a", "b"]
    assert text.grep((poem,), r"\bfox$") == ["The quick brown fox"]
    assert text.grep((poem,), "^the", ignore_case=True) == [
        "The quick brown fox", "The dog didn't mind; the fox's well-being mattered."]
    assert text.grep((files.read_lines((path,)),), "o", invert=True) == [""]
    assert text.sub((poem,), r"lazy (\w+)", r"\1, lazy").splitlines()[1] == (
        "jumps over the dog, lazy.")
    assert text.sub((poem,), "THE", "a", count=1, ignore_case=True).startswith("a quick")
    assert text.word_count((poem,)) == {"lines": 4, "words": 17, "chars": len(POEM)}
    wc = subprocess.run(["wc", "-l", "-w", "-m"], input=POEM.encode(), capture_output=True)
    if wc.returncode == 0:  # the real wc agrees
        assert [int(x) for x in wc.stdout.split()] == [4, 17, len(POEM)]
    freq = text.word_frequencies((poem,), top=3)
    assert freq == [("the", 4), ("dog", 2), ("brown", 1)]  # ties alphabetical
    assert ("fox's", 1) in text.word_frequencies((poem,))
    assert ("well-being", 1) in text.word_frequencies((poem,))
    assert text.join((["a", "b", 3],), sep="-", end="\n") == "a-b-3\n"


# -- records ----------------------------------------------------------------------

def test_records_json_csv_pickle(tmp_path):
    csv_path = tmp_path / "people.csv"
    csv_path.write_bytes(b'name,city,note\r\nAda,London,"likes, commas"\r\n'
                         b'Linus,Helsinki,"two\nlines"\r\n')
    rows = records.parse_csv((files.read_bytes((csv_path,)),))
    assert rows == [{"name": "Ada", "city": "London", "note": "likes, commas"},
                    {"name": "Linus", "city": "Helsinki", "note": "two\nlines"}]
    assert records.parse_csv(("a;b\n1;2\n",), delimiter=";", header=False) == [
        ["a", "b"], ["1", "2"]]
    again = records.format_csv((rows,))
    assert records.parse_csv((again,)) == rows
    assert records.format_csv((rows,), columns=["city"]) == "city\nLondon\nHelsinki\n"
    assert records.format_csv(([[1, 2], [3, 4]],), delimiter="\t") == "1\t2\n3\t4\n"

    doc = {"rows": rows, "n": 2, "ok": True}
    json_path = tmp_path / "doc.json"
    json_path.write_text(records.format_json((doc,), indent=2, sort_keys=True))
    assert records.parse_json((json_path.read_bytes(),)) == doc
    assert json.loads(json_path.read_text())["n"] == 2
    jl = records.format_json((rows,), lines=True)
    assert jl.count("\n") == 2 and records.parse_json((jl,), lines=True) == rows

    blob = records.to_pickle(({"set": {1, 2}},))
    assert records.from_pickle((blob,)) == {"set": {1, 2}}
    assert records.get_field((rows[0],), "city") == "London"
    assert records.get_field((rows,), "name") == ["Ada", "Linus"]
    assert records.get_field(((10, 20),), "1") == 20
    assert records.get_field((rows[0],), "zip", default="-") == "-"


# -- shell ------------------------------------------------------------------------

@pytest.mark.timeout(60)
def test_shell_run_substitutes_the_item_or_feeds_stdin(tmp_path):
    data = tmp_path / "data.txt"
    data.write_text("one\ntwo\nthree\n")
    res = shell.run((str(data),), [PY, "-c", "import sys; print(len(open(sys.argv[1]).read()))",
                                   "{}"])
    assert res["returncode"] == 0 and res["stdout"].strip() == "14"
    assert res["args"][-1] == str(data)
    res = shell.run(("hello world",), [PY, "-c", "import sys; print(sys.stdin.read().upper())"])
    assert res["stdout"].strip() == "HELLO WORLD"
    res = shell.run((str(data),), "wc -l {}", shell=True)
    assert res["stdout"].split()[0] == "3"
    res = shell.run((b"\x00\x01",), [PY, "-c", "import sys; sys.stdout.buffer.write("
                                     "sys.stdin.buffer.read()[::-1]); sys.exit(4)"],
                    encoding=None)
    assert res == {"args": res["args"], "returncode": 4, "stdout": b"\x01\x00", "stderr": b""}
    res = shell.run(("x",), [PY, "-c", "import sys; sys.stderr.write('oops'); sys.exit(2)"])
    assert (res["returncode"], res["stderr"]) == (2, "oops")
    with pytest.raises(subprocess.CalledProcessError):
        shell.run(("x",), [PY, "-c", "raise SystemExit(2)"], check=True)
    assert pickle.loads(pickle.dumps(res)) == res


@pytest.mark.timeout(60)
def test_shell_run_timeout_kills_the_program_and_its_children():
    t0 = time.monotonic()
    # sh starts a child that would keep the output pipe open for 30 s
    with pytest.raises(subprocess.TimeoutExpired):
        shell.run(("x",), "sleep 30 & sleep 30", shell=True, timeout=0.5)
    assert time.monotonic() - t0 < 10
    err = Worker(shell.run, kwargs={"command": [PY, "-c", "import time; time.sleep(30)"],
                                    "timeout": 0.5})(("x",))
    assert isinstance(err, WorkerError) and err.exc_type == "TimeoutExpired"
    assert time.monotonic() - t0 < 20


# -- numbers ----------------------------------------------------------------------

def test_numbers_on_a_file_of_measurements(tmp_path):
    path = tmp_path / "measurements.txt"
    values = [(i * 37 % 101) / 7 - 3 for i in range(1000)]
    path.write_text("value\n" + "\n".join(repr(v) for v in values) + "\n\n")
    lines = files.read_lines((path,), skip_empty=True)
    with pytest.raises(ValueError):
        numbers.parse_numbers((lines,))
    parsed = numbers.parse_numbers((lines,), skip_invalid=True)
    assert parsed == values
    assert numbers.parse_numbers(("1 2\n3",), kind="int") == [1, 2, 3]
    assert numbers.total((parsed,)) == pytest.approx(math.fsum(values))
    assert numbers.total(([1, 2, 3],), start=10) == 16
    assert numbers.mean((parsed,)) == pytest.approx(statistics.fmean(values))
    with pytest.raises(ValueError, match="empty"):
        numbers.mean(([],))
    with pytest.raises(TypeError, match="parse_numbers"):
        numbers.total((["1"],))
    hist = numbers.histogram((parsed,), bins=5)
    assert sum(hist["counts"]) == 1000 and len(hist["edges"]) == 6
    assert hist["edges"][0] == min(values) and hist["edges"][-1] == max(values)
    assert numbers.histogram(([0, 1, 2, 10],), bins=2, low=0, high=2)["counts"] == [1, 2]
    stats = numbers.running_stats((parsed,))
    assert stats["count"] == 1000
    assert stats["mean"] == pytest.approx(statistics.fmean(values))
    assert stats["variance"] == pytest.approx(statistics.variance(values))
    assert stats["stdev"] == pytest.approx(statistics.stdev(values))
    assert (stats["min"], stats["max"]) == (min(values), max(values))
    merged = numbers.merge_stats((numbers.running_stats((parsed[:300],)),
                                  [numbers.running_stats((parsed[300:301],)),
                                   numbers.running_stats(([],)),
                                   numbers.running_stats((parsed[301:],))]))
    for key in ("count", "mean", "variance", "min", "max", "sum"):
        assert merged[key] == pytest.approx(stats[key]), key


# -- sequences --------------------------------------------------------------------

FASTA = (b">seq1 Homo sapiens test fragment\r\nACGTACGTNN\r\nggcc\r\n\r\n"
         b"; a comment line\n>seq2\nATATAT\n")
FASTQ = ("@read1 lane=1\nACGTN\n+\nIIII#\n\n"
         "@read2\nGGGCCC\n+read2\n!!!!!!\n")


def test_sequences_fasta_fastq_and_stats(tmp_path):
    fa = tmp_path / "x.fasta"
    fa.write_bytes(FASTA)
    recs = sequences.parse_fasta((files.read_text((fa,)),))
    assert recs == [{"id": "seq1", "description": "Homo sapiens test fragment",
                     "sequence": "ACGTACGTNNggcc"},
                    {"id": "seq2", "description": "", "sequence": "ATATAT"}]
    assert sequences.parse_fasta((FASTA,)) == recs  # bytes too
    s1 = sequences.sequence_stats((recs[0],))
    assert (s1["id"], s1["length"], s1["n"]) == ("seq1", 14, 2)
    assert s1["gc"] == pytest.approx(8 / 12) and s1["counts"]["G"] == 4
    assert sequences.sequence_stats(("ATAT",))["gc"] == 0.0
    assert sequences.reverse_complement(("ACGTNacgr",)) == "ycgtNACGT"
    rc = sequences.reverse_complement((recs[1],))
    assert rc["sequence"] == "ATATAT" and rc["id"] == "seq2"
    out = tmp_path / "round.fasta"
    out.write_text(sequences.format_fasta((recs,), width=4))
    assert out.read_text().splitlines()[1] == "ACGT"
    assert sequences.parse_fasta((out.read_text(),)) == recs
    with pytest.raises(ValueError, match="line 1"):
        sequences.parse_fasta(("ACGT\n>x\nA\n",))

    fq = tmp_path / "x.fastq"
    fq.write_text(FASTQ)
    reads = sequences.parse_fastq((files.read_text((fq,)),))
    assert [r["id"] for r in reads] == ["read1", "read2"]
    assert reads[0]["description"] == "lane=1" and reads[1]["quality"] == "!!!!!!"
    q = sequences.sequence_stats((reads[0],))
    assert q["mean_quality"] == pytest.approx((40 * 4 + 2) / 5)
    assert sequences.sequence_stats((reads[1],))["gc"] == 1.0
    assert sequences.reverse_complement((reads[0],))["quality"] == "#IIII"
    with pytest.raises(ValueError, match="truncated"):
        sequences.parse_fastq((FASTQ + "@read3\nAC\n",))
    with pytest.raises(ValueError, match="quality has 3"):
        sequences.parse_fastq(("@r\nACGT\n+\nIII\n",))


# -- parallel ---------------------------------------------------------------------

def test_parallel_scatter_chunk_and_gather():
    items = list(range(10))
    chunks = parallel.scatter((items,))
    assert [len(c) for c in chunks] == [3, 3, 2, 2] and parallel.gather((chunks,)) == items
    assert parallel.scatter(([1],), n=3) == [[1], [], []]
    with pytest.raises(ValueError):
        parallel.scatter((items,), n=0)
    partial = [parallel.chunk_stats((c,)) for c in chunks]
    whole = numbers.running_stats((items,))
    merged = parallel.gather_stats((partial,))
    assert merged["count"] == 10 and merged["mean"] == pytest.approx(whole["mean"])
    assert merged["variance"] == pytest.approx(whole["variance"])


# -- a real pipeline of bundled nodes ---------------------------------------------

@pytest.mark.timeout(90)
def test_pipeline_of_bundled_nodes_through_a_plumber(tmp_path):
    """Files -> text fan-out/fan-in, and per-item scatter/spawn/gather on a process pool."""
    from papy_engine import IMap, Piper, Plumber
    from papy_plugins import flow

    paths = []
    for i in range(3):
        p = tmp_path / f"doc{i}.txt"
        p.write_text(POEM * (i + 1))
        paths.append(str(p))
    series = [[(j * 7 % 13) / 3 for j in range(50 * (k + 1))] for k in range(3)]

    pool = IMap(worker_num=2, worker_type="process")
    read = Piper(files.read_text, parallel=pool, name="read")
    foxes = Piper(Worker(text.grep, ("fox",)), name="foxes")
    counts = Piper(text.word_count, name="counts")
    both = Piper(flow.npasser, name="both", track=True)
    scatter = Piper(parallel.scatter, produce=4, name="scatter")
    chunk = Piper(parallel.chunk_stats, spawn=4, parallel=pool, name="chunk")
    gather = Piper(parallel.gather_stats, consume=4, name="gather", track=True)

    plumber = Plumber()
    plumber.add_pipe((read, foxes, both))
    plumber.add_pipe((read, counts, both))
    plumber.add_pipe((scatter, chunk, gather))
    assert plumber.get_inputs() == [read, scatter]
    plumber.start([paths, series])
    plumber.run()
    assert plumber.wait(timeout=60)
    assert plumber.state == "finished"

    assert plumber.results["both"] == [
        (text.grep((POEM * (i + 1),), "fox"), text.word_count((POEM * (i + 1),)))
        for i in range(3)]
    assert [r[1]["lines"] for r in plumber.results["both"]] == [4, 8, 12]
    got = plumber.results["gather"]
    assert len(got) == 3
    for stats, values in zip(got, series):
        expected = numbers.running_stats((values,))
        assert stats["count"] == expected["count"]
        assert stats["mean"] == pytest.approx(expected["mean"])
        assert stats["variance"] == pytest.approx(expected["variance"])
