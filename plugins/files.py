"""Files: list, read and write files, one path per item.

Items are paths (``str`` or ``os.PathLike``); results are plain ``str`` paths,
``str`` text, ``bytes`` or lists of lines, so they pickle between processes.
Writes are atomic (a temporary file in the same folder, then a rename), so a
reader never sees half a file even when the pipeline is stopped mid-way.
"""
from __future__ import annotations

import glob as _glob
import os
import tempfile
from pathlib import Path

from papy_engine.plugin import node
from papy_engine.util import atomic_write

__all__ = ["glob_files", "read_text", "read_bytes", "read_lines", "write_file", "save_as"]


@node("glob", category="files")
def glob_files(inbox, pattern: str = "*", recursive: bool = False,
               files_only: bool = True) -> list[str]:
    """List the paths in a folder that match a glob pattern, sorted.

    The item is the folder to search.

    Args:
        pattern: a glob pattern relative to the folder, e.g. ``*.txt`` or ``**/*.py``.
        recursive: let ``**`` match any number of sub-folders.
        files_only: leave out folders.
    """
    folder = os.fspath(inbox[0])
    if not os.path.isdir(folder):
        raise NotADirectoryError(f"glob: {folder!r} is not a folder")
    paths = _glob.glob(os.path.join(_glob.escape(folder), pattern), recursive=recursive)
    if files_only:
        paths = [p for p in paths if os.path.isfile(p)]
    return sorted(paths)


@node(category="files")
def read_text(inbox, encoding: str = "utf-8", errors: str = "strict") -> str:
    """Read a whole text file; the item is its path.

    Args:
        encoding: the text encoding.
        errors: how to handle undecodable bytes (``strict``, ``replace``, ``ignore``).
    """
    with open(inbox[0], encoding=encoding, errors=errors) as handle:
        return handle.read()


@node(category="files")
def read_bytes(inbox) -> bytes:
    """Read a whole file as bytes; the item is its path."""
    with open(inbox[0], "rb") as handle:
        return handle.read()


@node(category="files")
def read_lines(inbox, encoding: str = "utf-8", strip: bool = True,
               skip_empty: bool = False) -> list[str]:
    """Read the lines of a text file into a list; the item is its path.

    Args:
        encoding: the text encoding.
        strip: remove line endings and surrounding white space.
        skip_empty: leave out lines that are empty (after stripping, if ``strip``).
    """
    with open(inbox[0], encoding=encoding) as handle:
        lines = [line.strip() if strip else line for line in handle]
    if skip_empty:
        lines = [line for line in lines if line.strip()]
    return lines


def _atomic_write(path: str, data: str | bytes, encoding: str) -> None:
    if isinstance(data, str):
        data = data.encode(encoding)
    elif not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"can only write str or bytes (got a {type(data).__name__}); "
                        f"serialize it first, e.g. with records.format_json")
    atomic_write(path, bytes(data), fsync=False)


@node(category="files")
def write_file(inbox, folder: str = ".", prefix: str = "item-", suffix: str = ".txt",
               encoding: str = "utf-8") -> str:
    """Write the item (``str`` or ``bytes``) to a new file with a unique name.

    Safe from parallel workers: every item gets its own file.  Returns the path.

    Args:
        folder: where to create the file (created if missing).
        prefix: the start of the file name.
        suffix: the end of the file name, e.g. ``.txt`` or ``.json``.
        encoding: used when the item is text.
    """
    os.makedirs(folder, exist_ok=True)
    fd, path = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=suffix)
    os.close(fd)
    try:
        _atomic_write(path, inbox[0], encoding)
    except BaseException:
        os.unlink(path)
        raise
    return path


@node(category="files", inputs=2)
def save_as(inbox, encoding: str = "utf-8", overwrite: bool = True) -> str:
    """Write data to a given path: input 1 is the path, input 2 the data.

    The data (``str`` or ``bytes``) replaces the file atomically.  Returns the path.

    Args:
        encoding: used when the data is text.
        overwrite: allow replacing an existing file.
    """
    path, data = os.fspath(inbox[0]), inbox[1]
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"save_as: {path!r} exists and overwrite is False")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, data, encoding)
    return path
