"""How worker processes start from a fork server (papy_engine.pool.starting)."""
import subprocess
import sys
import textwrap

import pytest

pytestmark = [pytest.mark.timeout(120)]

SCRIPT = textwrap.dedent("""\
    import sys, threading
    from papy_engine import IMap
    if __name__ != "__main__":          # run again by a worker, or by the fork server
        with open(sys.argv[1] if len(sys.argv) > 1 else {marker!r}, "a") as f:
            f.write("imported\\n")
    {extra}
    if __name__ == "__main__":
        stop = threading.Event()
        threading.Thread(target=stop.wait, daemon=True).start()   # fork is unsafe now
        try:
            for workers in (2, 3):   # a second pool: new workers from the same server
                print(sorted(IMap(abs, range(-4, 4), worker_num=workers)))
        except Exception as exc:
            print(type(exc).__name__, exc)
        stop.set()
    """)


def _run(tmp_path, extra=""):
    marker = tmp_path / "imports.txt"
    script = tmp_path / "main_script.py"
    script.write_text(SCRIPT.format(marker=str(marker), extra=extra))
    out = subprocess.run([sys.executable, str(script), str(marker)], capture_output=True,
                         text=True, timeout=90, cwd=tmp_path)
    return out, (marker.read_text().count("imported") if marker.exists() else 0)


def test_fork_server_workers_do_not_run_the_main_script_again(tmp_path):
    """The fork server runs the main script once; its five workers inherit it.
    (multiprocessing alone re-ran it in every worker before gh-126631's fix: a
    script that imports the engine paid ~0.2 s of imports per worker.)"""
    out, imports = _run(tmp_path)
    assert out.stdout.splitlines() == [str(sorted(abs(x) for x in range(-4, 4)))] * 2, \
        out.stderr
    assert imports == 1, out.stderr


def test_a_main_script_the_fork_server_cannot_run_is_a_clear_error(tmp_path):
    out, _ = _run(tmp_path, extra=textwrap.dedent("""\
        if __name__ != "__main__":
            raise RuntimeError("this script cannot be imported")"""))
    assert "IMapError" in out.stdout, (out.stdout, out.stderr)
    assert "if __name__ == '__main__':" in out.stdout
    assert "this script cannot be imported" in out.stderr   # the server's traceback
