"""Saved pipelines run from any directory (issue 11): functions from a module that
only the saving process can import (next to the user's script, a test module) are
written into the script as source; portable modules are still imported."""
import subprocess
import sys
import textwrap

import pytest

from papy_engine import Piper, Plumber, Worker
from papy_engine.errors import ScriptError
from papy_engine.script import read, render, save, script
from papy_engine.script import preamble_for, unbound_names
from papy_engine.script.portable import check_portable, portable

pytestmark = pytest.mark.timeout(90)

PAPY = [sys.executable, "-m", "papy_engine.cli"]

HELPERS = '''\
import math

SCALE = 10


def norm(x):
    return math.floor(x * SCALE)


class Box:
    def __init__(self, value):
        self.value = value


def clean(inbox):
    return norm(Box(inbox[0]).value)


def shout(inbox, fmt=str):
    return str(fmt(inbox[0])) + "!"
'''

BUILD = '''\
import sys
from helpers import clean
from papy_engine import Piper, Plumber
from papy_engine.workers.io import print_

p = Plumber()
p.add_pipe((Piper(clean, name="clean"), Piper(print_, name="show")))
p.save(sys.argv[1], inputs=["[0.15, 0.25]"])
'''


def papy_run(path, cwd):
    return subprocess.run(PAPY + ["run", str(path), "--quiet"], capture_output=True,
                          text=True, cwd=cwd, timeout=60)


def test_a_script_saved_next_to_its_helper_module_runs_elsewhere(tmp_path):
    project, out, elsewhere = tmp_path / "project", tmp_path / "out", tmp_path / "elsewhere"
    for d in (project, out, elsewhere):
        d.mkdir()
    (project / "helpers.py").write_text(HELPERS, encoding="utf-8")
    (project / "build.py").write_text(BUILD, encoding="utf-8")
    saved = out / "pipe.py"
    proc = subprocess.run([sys.executable, "build.py", str(saved)], cwd=project,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    text = saved.read_text(encoding="utf-8")
    assert "helpers" not in text  # no import of the local module...
    for needed in ("def clean(inbox):", "def norm(x):", "class Box:", "SCALE = 10",
                   "import math"):
        assert needed in text  # ...its code instead, with what it uses
    assert "from papy_engine.workers.io import print_" in text  # portable: imported
    assert render(read(saved)) == text
    run = papy_run(saved, elsewhere)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["1", "2"]


def test_functions_of_a_module_on_this_process_sys_path_become_source(tmp_path, monkeypatch):
    mods = tmp_path / "mods"
    mods.mkdir()
    (mods / "i11_local_mod.py").write_text(HELPERS, encoding="utf-8")
    monkeypatch.syspath_prepend(str(mods))
    import i11_local_mod as mod
    assert not portable("i11_local_mod")
    p = Plumber()
    # a local function as a Worker argument is written out too
    p.add_pipe((Piper(mod.clean, name="clean"),
                Piper(Worker(mod.shout, kwargs={"fmt": mod.norm}), name="shout")))
    path = tmp_path / "saved.py"
    save(p, path, inputs=["[0.3]"])
    text = path.read_text(encoding="utf-8")
    assert "i11_local_mod" not in text
    assert "Worker(shout, kwargs={'fmt': norm})" in text and text.count("def norm(x):") == 1
    run = papy_run(path, tmp_path)
    assert run.returncode == 0, run.stderr


def test_a_local_module_object_cannot_be_saved_and_says_why(tmp_path, monkeypatch):
    mods = tmp_path / "mods2"
    mods.mkdir()
    (mods / "i11_local_mod2.py").write_text(HELPERS, encoding="utf-8")
    monkeypatch.syspath_prepend(str(mods))
    import i11_local_mod2

    def uses_module(inbox):
        return i11_local_mod2.norm(inbox[0])
    uses_module.__globals__["i11_local_mod2"] = i11_local_mod2
    p = Plumber()
    p.add_piper(Piper(uses_module, name="user"))
    with pytest.raises(ScriptError, match=r"'i11_local_mod2' is importable only through "
                       r"this process's sys\.path.*mods2"):
        script(p)


def test_portable_modules_stay_imports():
    found = check_portable(["math", "os.path", "papy_engine.workers.core", "networkx",
                            "papy_plugins", "no_such_module_i11", "test_script_local"])
    assert found == {"math": True, "os.path": True, "papy_engine.workers.core": True,
                     "networkx": True, "papy_plugins": True, "no_such_module_i11": False,
                     # pytest put this test module on sys.path: local
                     "test_script_local": False}


def test_console_names_become_a_preamble():
    """What the editor uses for functions typed in its console (issue 12, item 1)."""
    import time
    text = textwrap.dedent('''\
        def slow(inbox):
            time.sleep(DELAY)
            return helper(inbox[0])


        INPUTS = [range(3)]
        ''')
    assert unbound_names(text) == {"time", "DELAY", "helper"}
    ns = {"time": time, "DELAY": 0.01, "unused": 1}
    exec("def helper(x):\n    return math.floor(x)\n", ns)  # no source: refused
    ns["math"] = __import__("math")
    with pytest.raises(ScriptError, match="helper"):
        preamble_for({"time", "DELAY", "helper"}, ns)
    assert preamble_for({"time", "DELAY"}, ns) == "import time\n\n\nDELAY = 0.01\n"
    assert preamble_for({"time", "DELAY"}, ns, preamble="import time") == "DELAY = 0.01\n"
