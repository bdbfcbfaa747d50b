"""Logging helpers: every engine module logs under the ``papy_engine`` logger."""
from __future__ import annotations

import logging

__all__ = ["start_logger"]

FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s]: %(message)s"


def start_logger(level: int | str = logging.INFO, filename: str | None = None,
                 logger: str = "papy_engine", fmt: str = FORMAT) -> logging.Logger:
    """Send ``papy_engine`` records at ``level`` to stderr, or to ``filename``.

    Calling it again replaces the handler it installed before, so it is safe
    to call from scripts that may run more than once in one interpreter.

    Returns:
        The configured logger.
    """
    log = logging.getLogger(logger)
    if isinstance(level, str):
        level = logging.getLevelName(level.upper())
        if not isinstance(level, int):
            raise ValueError(f"unknown log level {level!r}")
    for h in list(log.handlers):
        if getattr(h, "_papy_handler", False):
            log.removeHandler(h)
            h.close()
    handler: logging.Handler = (logging.FileHandler(filename, encoding="utf-8") if filename
                                else logging.StreamHandler())
    handler._papy_handler = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter(fmt))
    log.addHandler(handler)
    log.setLevel(level)
    return log
