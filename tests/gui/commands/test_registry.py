"""The command registry: menus, toolbar and keys come from one list (no display)."""
import pytest

from papy_gui.commands.registry import Commands, key_label

pytestmark = pytest.mark.timeout(30)


def test_key_labels_are_how_menus_spell_keys():
    assert [key_label(k) for k in ("<Control-n>", "<Control-S>", "<Control-Shift-S>",
                                   "<Control-plus>", "<Control-equal>", "<Control-minus>",
                                   "<Shift-F5>", "<F1>", "<Control-0>")] == \
        ["Ctrl+N", "Ctrl+Shift+S", "Ctrl+Shift+S", "Ctrl++", "Ctrl+=", "Ctrl+-",
         "Shift+F5", "F1", "Ctrl+0"]


def test_menus_toolbar_and_keys_follow_registration():
    calls = []
    running = [False]
    c = Commands()
    c.add_command("new", "File", "New", lambda: calls.append("new"), keys=("<Control-n>",),
                  toolbar="New", group=1)
    c.add_cascade("recent", "File", "Open recent", lambda: [("(none)", None)], group=1)
    c.add_command("quit", "File", "Quit", lambda: calls.append("quit"), group=2)
    c.add_command("run", "Run", "Run", lambda: calls.append("run") or True,
                  keys=("<F5>",), tester=lambda: not running[0], toolbar="▶ Run")
    c.add_command("pause", "Run", "Pause", lambda: None, in_menu=False, toolbar="Pause",
                  tester=lambda: running[0])
    c.add_command("undo", "Edit", lambda: "Undo " + "x" * len(calls), lambda: None,
                  keys=("<Control-z>",), in_text=False, toolbar="Undo")
    assert [i.id for i in c.menu("File")] == ["new", "recent", "quit"]
    assert [i.id for i in c.menu("Run")] == ["run"]  # pause is on the toolbar only
    assert [i.id for i in c.toolbar()] == ["new", "run", "pause", "undo"]
    assert {k: cmd.id for k, cmd in c.keys().items()} == {
        "<Control-n>": "new", "<F5>": "run", "<Control-z>": "undo"}
    assert c["new"].accelerator == "Ctrl+N" and c["quit"].accelerator == ""
    assert not c["undo"].in_text
    assert c["run"].enabled() and not c["pause"].enabled()
    assert c.invoke("run") is True and calls == ["run"]
    running[0] = True
    assert c.invoke("run") is None and calls == ["run"]  # disabled: not called
    assert c["pause"].enabled() and c["undo"].caption() == "Undo x"


def test_ids_menus_and_keys_are_checked():
    c = Commands()
    c.add_command("a", "Edit", "A", lambda: None, keys=("<F2>",))
    with pytest.raises(ValueError, match="'a' is already registered"):
        c.add_command("a", "Edit", "A again", lambda: None)
    with pytest.raises(ValueError, match="menu must be one of File, Edit, View, Run, Help "
                                         r"\(got 'Tools'\)"):
        c.add_command("b", "Tools", "B", lambda: None)
    c.add_command("c", "Edit", "C", lambda: None, keys=("<F2>",))
    with pytest.raises(ValueError, match="key <F2> is bound to both 'a' and 'c'"):
        c.keys()
    c.add_cascade("sub", "Edit", "Sub", lambda: [])
    with pytest.raises(KeyError, match="submenu"):
        c["sub"]
