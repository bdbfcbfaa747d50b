"""start_logger and the engine's module loggers."""
import logging

import pytest

from papy_engine import IMap, Piper, Plumber, start_logger

pytestmark = [pytest.mark.timeout(60)]


def fails(inbox):
    raise ValueError("nope")


def test_start_logger_writes_a_file_and_replaces_its_handler(tmp_path):
    # (conftest restores the papy_engine logger after each test)
    path = tmp_path / "run.log"
    start_logger("DEBUG", str(path))
    start_logger(logging.INFO, str(path))  # again: still one handler of ours
    ours = [h for h in logging.getLogger("papy_engine").handlers
            if getattr(h, "_papy_handler", False)]
    assert len(ours) == 1
    p = Plumber()
    p.add_piper(Piper(fails, parallel=IMap(worker_num=1), name="bad"))
    p.start([range(2)])
    p.run()
    p.wait(30)
    text = path.read_text()
    assert "running -> finished" in text or "-> finished" in text
    assert "piper bad: item 0 became a placeholder" in text
    assert "piper bad: item 1 became a placeholder" in text
    assert text.count("item 0 became a placeholder") == 1


def test_bad_level_is_refused():
    with pytest.raises(ValueError, match="unknown log level"):
        start_logger("LOUD")


def test_every_engine_module_that_logs_has_its_own_logger():
    import importlib
    import logging
    import pkgutil

    import papy_engine
    checked = 0
    for info in pkgutil.walk_packages(papy_engine.__path__, "papy_engine."):
        mod = importlib.import_module(info.name)
        if info.name == "papy_engine.log":   # configures logging, does not log
            continue
        if getattr(mod, "logging", None) is logging:   # the module logs
            assert isinstance(mod.log, logging.Logger), info.name
            assert mod.log.name == info.name
            checked += 1
    assert checked >= 20

