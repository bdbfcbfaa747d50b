"""The sidecar that remembers where a document's run saves its results (no display)."""
import pytest

from papy_gui.model import last_run

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(autouse=True)
def _state(tmp_path, monkeypatch):
    monkeypatch.setenv("PAPY_GUI_STATE_DIR", str(tmp_path / "state"))


def test_remembered_per_document_until_forgotten(tmp_path):
    doc, other = str(tmp_path / "a.py"), str(tmp_path / "sub" / "a.py")
    assert last_run.recall(doc) is None
    last_run.remember(doc, tmp_path / "out")
    last_run.remember(None, tmp_path / "untitled-out")
    assert last_run.recall(doc) == str((tmp_path / "out").resolve())
    assert last_run.recall(other) is None  # same name, another file
    assert last_run.recall(None) == str((tmp_path / "untitled-out").resolve())
    assert last_run.sidecar_path(doc).parent == tmp_path / "state" / "runs"
    last_run.forget(doc)
    last_run.forget(doc)  # safe to repeat
    assert last_run.recall(doc) is None and last_run.recall(None) is not None


def test_a_damaged_sidecar_is_nothing_remembered(tmp_path):
    doc = str(tmp_path / "a.py")
    last_run.remember(doc, tmp_path / "out")
    last_run.sidecar_path(doc).write_text("{not json")
    assert last_run.recall(doc) is None
    last_run.sidecar_path(doc).write_text('["a list"]')
    assert last_run.recall(doc) is None
