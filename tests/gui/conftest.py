"""Fixtures of the editor's tests: one window per module (Xvfb), a fresh document
per test that asks for it, and a screenshot of the screen when a ``gui`` test fails.

Screenshots go to pytest's temporary folder (``<basetemp>/screenshots``), never
into the repository; the failure report names the file.
"""
import pytest

from guitools import make_app, screenshot


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = make_app(tmp_path_factory)
    yield app
    app.close(ask=False)


@pytest.fixture(autouse=True)
def _answers(request):
    """Each test that uses the module's window starts with the default answers."""
    if "app" in request.fixturenames:
        request.getfixturevalue("app").dialogs.reset()


@pytest.fixture
def fresh(app):
    """The module's window with a new, empty document."""
    app.files.new()
    app.doc.undo_stack.clear()
    app.palette_view.search_var.set("")
    app.root.update()
    app.dialogs.reset()  # forget "Save changes?" of the New above
    return app


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed or item.get_closest_marker("gui") is None:
        return
    folder = item.config._tmp_path_factory.getbasetemp() / "screenshots"
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in item.nodeid)
    path = screenshot(folder / f"{name}.png")
    if path is not None:
        report.sections.append(("screenshot", str(path)))
