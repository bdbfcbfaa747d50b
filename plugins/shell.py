"""Shell: run an external program on each item, with a timeout.

The program runs without a shell (no quoting pitfalls) unless ``shell=True``.
It is started in its own process group, so that on a timeout the program
*and anything it started* are killed and the node never hangs on an
orphaned pipe.
"""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from typing import Any

from papy_engine.plugin import node

__all__ = ["run"]

PLACEHOLDER = "{}"


def _argv(command: str | list, item: Any, shell: bool) -> tuple[Any, bool]:
    """Build the command line; returns (argv, whether the item was substituted)."""
    text = os.fspath(item) if isinstance(item, os.PathLike) else item
    if shell:
        if not isinstance(command, str):
            command = shlex.join(str(c) for c in command)
        if PLACEHOLDER in command:
            return command.replace(PLACEHOLDER, shlex.quote(str(text))), True
        return command, False
    argv = shlex.split(command) if isinstance(command, str) else [str(c) for c in command]
    if not argv:
        raise ValueError("run: 'command' is empty")
    used = any(PLACEHOLDER in a for a in argv)
    return [a.replace(PLACEHOLDER, str(text)) for a in argv], used


def _kill(proc: subprocess.Popen) -> None:
    try:
        if sys.platform != "win32":
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - no process groups
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass


@node(category="shell", parallel=True)
def run(inbox, command: str | list, timeout: float | None = 60.0, stdin: bool | None = None,
        shell: bool = False, check: bool = False, encoding: str | None = "utf-8",
        cwd: str | None = None) -> dict:
    """Run an external program on the item; capture its output and exit code.

    ``{}`` in the command is replaced by the item (e.g. a file name); otherwise
    the item is written to the program's standard input.  Returns
    ``{"args", "returncode", "stdout", "stderr"}``.  A program that runs longer
    than ``timeout`` is killed (with its children) and the item becomes a
    ``WorkerError`` placeholder saying so.

    Args:
        command: the program and its arguments, as a list or a string (split like a shell).
        timeout: seconds before the program is killed (None: wait forever).
        stdin: send the item on standard input (default: when the command has no ``{}``).
        shell: run the command through ``/bin/sh`` (``{}`` is shell-quoted).
        check: a non-zero exit code raises instead of being returned.
        encoding: decode output with this encoding; None keeps ``bytes``.
        cwd: the working directory of the program.
    """
    item = inbox[0]
    argv, substituted = _argv(command, item, shell)
    if stdin is None:
        stdin = not substituted
    data = None
    if stdin:
        data = item if isinstance(item, (bytes, bytearray)) else str(item).encode(
            encoding or "utf-8")
    proc = subprocess.Popen(argv, shell=shell, cwd=cwd, start_new_session=True,
                            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(data, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        proc.communicate()
        raise subprocess.TimeoutExpired(argv, timeout) from None
    except BaseException:
        _kill(proc)
        proc.wait()
        raise
    if encoding is not None:
        out, err = out.decode(encoding, "replace"), err.decode(encoding, "replace")
    if check and proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, argv, out, err)
    return {"args": argv, "returncode": proc.returncode, "stdout": out, "stderr": err}
