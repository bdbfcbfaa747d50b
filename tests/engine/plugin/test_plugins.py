"""Tests of the plugin API (papy_engine.plugin) and plugin discovery.

The bundled nodes themselves are tested on real files in test_plugins_bundled.py.
"""
from __future__ import annotations

import importlib.util
import json
import multiprocessing
import os
import pickle
import re
import struct
import subprocess
import sys
import textwrap
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import dill
import pytest

from helpers import ROOT

from papy_engine.cli.plugins import main as plugins_main
from papy_engine.plugin import (REQUIRED, NodeSpec, PluginError, discover, node,
                                plugins_report, resolve, spec_of)
from papy_engine.plugin import discovery as plugin_discovery

BUNDLED = ("files", "text", "records", "shell", "numbers", "sequences", "flow", "parallel")


@pytest.fixture
def isolated(monkeypatch):
    """Undo what user-plugin discovery does to sys.path, sys.modules and the cache."""
    path, modules = list(sys.path), set(sys.modules)
    plugin_discovery._cache.clear()
    monkeypatch.delenv("PAPY_PLUGIN_PATH", raising=False)
    yield monkeypatch
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        if not name.startswith(("papy_plugins", "papy_engine")):
            del sys.modules[name]
    plugin_discovery._cache.clear()


def write(folder, name, source):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


GOOD = '''
    from papy_engine.plugin import node

    @node(category="text", icon="text", params={"times": {"type": "int"}})
    def shout(inbox, suffix: str = "!", times=1):
        """Upper-case the text.

        Args:
            suffix: appended to the result.
            times: how many suffixes.
        """
        return inbox[0].upper() + suffix * times

    def helper(x):  # not a node
        return x
'''


# -- the @node decorator ----------------------------------------------------------

@node(category="numbers", produce=2, params={"scale": "multiplies both halves"})
def halves(inbox, scale: float = 1.0, *, label=None):
    """Split a number into two halves.

    More text after the summary.

    Args:
        scale (float): the factor.
        label: a name,
            continued on a second line.

    Returns:
        two numbers.
    """
    return [inbox[0] / 2 * scale] * 2


@node
def bare(inbox, pattern):
    """A node declared with a bare @node."""
    return pattern


def test_node_returns_the_function_with_its_spec():
    spec = halves.papy_node
    assert spec_of(halves) is spec and isinstance(spec, NodeSpec)
    assert halves((4,)) == [2.0, 2.0]
    assert spec.name == "halves" and spec.import_path == f"{__name__}.halves"
    assert spec.category == "numbers" and spec.icon == "numbers"
    assert spec.summary == "Split a number into two halves."
    assert "More text" in spec.description
    assert spec.piper_options() == {"produce": 2, "consume": 1, "spawn": 1}
    scale, label = spec.params
    assert (scale.name, scale.default, scale.type, scale.doc) == (
        "scale", 1.0, "float", "multiplies both halves")
    assert (label.name, label.default, label.type) == ("label", None, "any")
    assert label.doc == "a name, continued on a second line."
    assert not label.required
    assert resolve(spec.import_path) is halves


def test_bare_node_and_required_params():
    (pattern,) = bare.papy_node.params
    assert pattern.required and pattern.default is REQUIRED
    assert bare.papy_node.icon == "plugin" and bare.papy_node.category == "other"
    assert pickle.loads(pickle.dumps(REQUIRED)) is REQUIRED
    json.dumps(bare.papy_node.to_dict())
    assert spec_of(len) is None


def test_node_functions_pickle_by_reference():
    assert pickle.loads(pickle.dumps(halves)) is halves
    assert dill.loads(dill.dumps(halves)) is halves


@pytest.mark.parametrize("meta, message", [
    ({"inputs": 0}, "'inputs' must be an int >= 1"),
    ({"produce": "2"}, "'produce' must be an int >= 1"),
    ({"params": {"nope": "x"}}, "params names 'nope'"),
    ({"params": {"n": 3}}, "params['n'] must be a str"),
    ({"icon": "Bad Icon"}, "'icon' must be a lower-case name"),
    ({"category": ""}, "'category' must be a non-empty str"),
    ({"variadic": "yes"}, "'variadic' must be a bool"),
])
def test_invalid_metadata_is_refused(meta, message):
    def f(inbox, n=1):
        """Doc."""
    f.__qualname__ = "f"  # pretend to be module-level: only the metadata is wrong
    with pytest.raises(PluginError, match=re.escape(message)) as info:
        node(**meta)(f)
    assert "node 'f'" in str(info.value)


def test_invalid_functions_are_refused():
    def nested(inbox):
        """Doc."""
    with pytest.raises(PluginError, match="module-level function"):
        node(nested)

    def undocumented(inbox):
        pass
    undocumented.__qualname__ = "undocumented"
    with pytest.raises(PluginError, match="needs a description"):
        node(undocumented)

    def no_inbox():
        """Doc."""
    no_inbox.__qualname__ = "no_inbox"
    with pytest.raises(PluginError, match="inbox as its first"):
        node(no_inbox)
    with pytest.raises(PluginError, match="plain functions"):
        node(len)


# -- discovery --------------------------------------------------------------------

def test_bundled_plugins_are_discovered_and_documented(isolated):
    registry = discover(refresh=True)
    assert registry.failures == ()
    names = {p.name for p in registry.plugins}
    assert {f"papy_plugins.{b}" for b in BUNDLED} <= names
    categories = registry.categories()
    assert set(BUNDLED) <= set(categories)
    for spec in registry:
        assert spec.description.strip(), spec.import_path
        assert all(p.doc for p in spec.params), f"{spec.import_path}: undocumented params"
        func = spec.load()
        assert spec_of(func) is not None
        assert pickle.loads(pickle.dumps(func)) is func
    assert registry["papy_plugins.text.grep"].params[0].name == "pattern"
    flow = registry["papy_engine.workers.core.njoiner"]
    assert flow.category == "flow" and flow.variadic and flow.plugin == "papy_plugins.flow"
    assert registry.search("fasta parse")[0].import_path == "papy_plugins.sequences.parse_fasta"
    assert discover() is registry  # cached
    json.dumps(registry.to_dict())


def test_user_plugins_good_and_broken_are_reported_and_skipped(isolated, tmp_path):
    folder = tmp_path / "myplugins"
    write(folder, "upl_good.py", GOOD)
    write(folder, "upl_syntax.py", "from papy_engine.plugin import node\ndef broken(:\n")
    write(folder, "upl_meta.py", '''
        from papy_engine.plugin import node

        @node(inputs=0)
        def zero(inbox):
            """Takes nothing."""
    ''')
    write(folder, "upl_attr.py", '''
        def fake(inbox):
            return 1
        fake.papy_node = "not a spec"
    ''')
    write(folder, "upl_exit.py", "import sys\nsys.exit(3)\n")
    write(folder, "upl_pkg/__init__.py", "from .nodes import twice\n")
    write(folder, "upl_pkg/nodes.py", '''
        from papy_engine.plugin import node

        @node(category="numbers")
        def twice(inbox):
            """Double the item."""
            return inbox[0] * 2
    ''')
    write(folder, "_private.py", "raise RuntimeError('never imported')\n")
    write(folder, "json.py", "raise RuntimeError('never imported')\n")
    isolated.setenv("PAPY_PLUGIN_PATH", f"{folder}:{tmp_path / 'missing'}")

    registry = discover(refresh=True)

    assert registry["upl_good.shout"].load()(("hey",)) == "HEY!"
    assert registry["upl_good.shout"].params[1].type == "int"
    assert registry["upl_pkg.nodes.twice"].plugin == "upl_pkg"
    assert "upl_good.helper" not in registry
    failures = {f.name: f for f in registry.failures}
    assert set(failures) == {"upl_syntax", "upl_meta", "upl_attr", "upl_exit", "json",
                             str(tmp_path / "missing")}
    assert failures["upl_syntax"].reason.startswith("SyntaxError")
    assert "Traceback" in failures["upl_syntax"].details
    assert "'inputs' must be an int >= 1 (got 0" in failures["upl_meta"].reason
    assert "must be a NodeSpec" in failures["upl_attr"].reason
    assert failures["upl_exit"].reason.startswith("SystemExit")
    assert "taken by another module" in failures["json"].reason
    assert "not a folder" in failures[str(tmp_path / "missing")].reason
    assert "upl_meta" not in sys.modules
    report = plugins_report(registry)
    assert "upl_good" in report and "shout" in report
    assert "Failed plugins (skipped):" in report and "SyntaxError" in report
    assert str(failures["upl_meta"]).startswith("upl_meta (path: ")


def test_refresh_reloads_an_edited_plugin(isolated, tmp_path):
    write(tmp_path, "upl_edit.py", GOOD)
    isolated.setenv("PAPY_PLUGIN_PATH", str(tmp_path))
    assert "upl_edit.shout" in discover(refresh=True)
    write(tmp_path, "upl_edit.py", GOOD.replace("def shout", "def yell"))
    assert discover() is discover()  # cached until refresh
    registry = discover(refresh=True)
    assert "upl_edit.yell" in registry and "upl_edit.shout" not in registry


def test_add_plugin_path_makes_user_plugins_importable(isolated, tmp_path):
    from papy_engine.plugin import add_plugin_path
    write(tmp_path, "upl_saved.py", GOOD)
    isolated.setenv("PAPY_PLUGIN_PATH", f"{tmp_path}:{tmp_path / 'nope'}")
    assert add_plugin_path() == [str(tmp_path.resolve())]
    assert add_plugin_path() == [str(tmp_path.resolve())] and sys.path.count(str(tmp_path)) == 1
    from upl_saved import shout  # what a saved script using the plugin does
    assert shout(("ok",)) == "OK!"


def test_entry_point_plugins(isolated, tmp_path):
    site = tmp_path / "site"
    write(site, "upl_ep_mod.py", GOOD)
    write(site, "upl_ep_one.py", textwrap.dedent(GOOD) + "NOT_A_NODE = 1\n")
    write(site, "fake_papy_plugin-1.0.dist-info/METADATA",
          "Metadata-Version: 2.1\nName: fake-papy-plugin\nVersion: 1.0\n")
    write(site, "fake_papy_plugin-1.0.dist-info/entry_points.txt", """
        [papy.plugins]
        fake_module = upl_ep_mod
        fake_function = upl_ep_one:shout
        fake_missing = upl_ep_nowhere_to_be_found
        fake_object = upl_ep_one:NOT_A_NODE
    """)
    isolated.syspath_prepend(str(site))
    registry = discover(refresh=True)
    assert "upl_ep_mod.shout" in registry and "upl_ep_one.shout" in registry
    assert {p.name: p.source for p in registry.plugins}["fake_module"] == "entry-point"
    failures = {f.name: f.reason for f in registry.failures}
    assert failures["fake_missing"].startswith("ModuleNotFoundError")
    assert "must name a module or an @node function" in failures["fake_object"]


def test_user_plugin_nodes_run_in_spawned_processes(isolated, tmp_path):
    write(tmp_path, "upl_spawn.py", GOOD)
    isolated.setenv("PAPY_PLUGIN_PATH", str(tmp_path))
    func = discover(refresh=True)["upl_spawn.shout"].load()
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=ctx) as pool:
        assert pool.submit(func, ("hi",), "?").result(timeout=60) == "HI?"
    assert multiprocessing.active_children() == []


# -- papy plugins -----------------------------------------------------------------

def test_plugins_main_text_json_and_strict(isolated, tmp_path, capsys):
    write(tmp_path, "upl_cli.py", GOOD)
    write(tmp_path, "upl_cli_bad.py", "import does_not_exist_anywhere\n")
    assert plugins_main(["--path", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "upl_cli" in out and "ModuleNotFoundError" in out
    assert plugins_main(["--path", str(tmp_path), "--strict"]) == 1
    capsys.readouterr()
    assert plugins_main(["--json", "--category", "text", "--path", str(tmp_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {n["category"] for n in data["nodes"]} == {"text"}
    assert "upl_cli.shout" in {n["import_path"] for n in data["nodes"]}
    assert data["failures"][0]["name"] == "upl_cli_bad"
    assert plugins_main(["-v", "--category", "shell"]) == 0
    assert "import: papy_plugins.shell.run" in capsys.readouterr().out
    assert plugins_main(["--bogus"]) == 2
    assert plugins_main(["--help"]) == 0


@pytest.mark.timeout(60)
def test_plugin_module_runs_headless_without_tkinter():
    code = ("import sys; sys.modules['tkinter'] = None\n"
            "from papy_engine.plugin import discover\n"
            "r = discover(); assert len(r) > 30 and not r.failures, r.failures\n"
            "assert 'tkinter' not in [m for m in sys.modules if sys.modules[m] is not None]\n")
    env = {k: v for k, v in os.environ.items() if k != "PAPY_PLUGIN_PATH"}
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, env=env)
    out = subprocess.run([sys.executable, "-m", "papy_engine.plugin", "--category", "flow"],
                         check=True, timeout=60, capture_output=True, text=True, env=env).stdout
    assert "njoiner" in out


# -- assets -----------------------------------------------------------------------

ASSETS = ROOT / "assets"
TOOLBAR = ("new", "open", "save", "save-as", "run", "pause", "resume", "stop", "undo", "redo",
           "zoom-fit", "layout", "app")


def read_png(path):
    """Check a PNG's structure and CRCs; returns (width, height, color_type, raw rows)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        tag, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(tag + body) & 0xFFFFFFFF == crc, (path, tag)
        chunks[tag] = chunks.get(tag, b"") + body
        pos += 12 + length
    w, h, depth, ctype = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    raw = zlib.decompress(chunks[b"IDAT"])
    assert depth == 8 and len(raw) == h * (1 + 4 * w)
    return w, h, ctype, raw


def test_icon_set_is_complete_valid_and_reproducible(tmp_path):
    from papy_engine.plugin import CATEGORY_ICONS
    names = list(TOOLBAR) + [f"node-{c}" for c in CATEGORY_ICONS]
    for name in names:
        for size in (16, 32):
            w, h, ctype, raw = read_png(ASSETS / "icons" / f"{name}-{size}.png")
            assert (w, h, ctype) == (size, size, 6)
            alphas = [raw[r * (4 * size + 1) + 4 + 4 * x] for r in range(size)
                      for x in range(size)]
            assert sum(a > 0 for a in alphas) > size * size // 10, name  # not blank
    assert (ASSETS / "README.md").read_text().count("License") >= 1
    spec = importlib.util.spec_from_file_location("make_icons", ASSETS / "make_icons.py")
    make_icons = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_icons)
    assert set(names) <= set(make_icons.all_icons())
    for path in make_icons.build(tmp_path, {"run", "node-text"}):
        assert path.read_bytes() == (ASSETS / "icons" / path.name).read_bytes(), path.name
    for spec_ in discover():
        assert spec_.icon in CATEGORY_ICONS, spec_.import_path
