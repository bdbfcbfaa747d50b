"""Records: JSON, CSV and pickle to and from Python objects.

Parsers take text (``str``) or ``bytes`` and return plain Python objects;
formatters do the reverse, so a pipeline can read files, parse, transform,
format and write them with the files plugin.
"""
from __future__ import annotations

import csv
import io
import json
import pickle
from typing import Any

from papy_engine.plugin import node

__all__ = ["parse_json", "format_json", "parse_csv", "format_csv", "to_pickle",
           "from_pickle", "get_field"]


@node(category="records")
def parse_json(inbox, lines: bool = False) -> Any:
    """Parse JSON text into Python objects.

    Args:
        lines: the text is JSON Lines (one document per line); return a list.
    """
    text = inbox[0]
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8")
    if lines:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)


@node(category="records")
def format_json(inbox, indent: int | None = None, sort_keys: bool = False,
                lines: bool = False) -> str:
    """Format a Python object as JSON text.

    Args:
        indent: pretty-print with this many spaces (None: compact, one line).
        sort_keys: sort the keys of objects, for stable output.
        lines: the item is a list; write JSON Lines (one document per line).
    """
    if lines:
        return "".join(json.dumps(doc, sort_keys=sort_keys) + "\n" for doc in inbox[0])
    return json.dumps(inbox[0], indent=indent, sort_keys=sort_keys)


@node(category="records")
def parse_csv(inbox, delimiter: str = ",", header: bool = True) -> list:
    """Parse CSV text into rows: dicts keyed by the header, or lists.

    Values stay strings (convert them with the numbers plugin's ``parse_numbers``).

    Args:
        delimiter: the field separator, e.g. ``,`` or a tab.
        header: the first row names the columns; rows become dicts.
    """
    text = inbox[0]
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8")
    stream = io.StringIO(text, newline="")
    if header:
        return [dict(row) for row in csv.DictReader(stream, delimiter=delimiter)]
    return [row for row in csv.reader(stream, delimiter=delimiter)]


@node(category="records")
def format_csv(inbox, delimiter: str = ",", columns: list | None = None) -> str:
    """Format rows (dicts or lists) as CSV text.

    Dict rows get a header row: ``columns``, or the keys in first-seen order.

    Args:
        delimiter: the field separator.
        columns: the column order for dict rows (other keys are dropped).
    """
    rows = list(inbox[0])
    out = io.StringIO(newline="")
    if rows and isinstance(rows[0], dict):
        if columns is None:
            columns = list(dict.fromkeys(k for row in rows for k in row))
        writer = csv.DictWriter(out, fieldnames=columns, delimiter=delimiter,
                                extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue()


@node(category="records")
def to_pickle(inbox, protocol: int = pickle.HIGHEST_PROTOCOL) -> bytes:
    """Serialize the item to pickle bytes.

    Args:
        protocol: the pickle protocol.
    """
    return pickle.dumps(inbox[0], protocol=protocol)


@node(category="records")
def from_pickle(inbox) -> Any:
    """Load an object from pickle bytes.  Only unpickle data you trust."""
    return pickle.loads(inbox[0])


@node(category="records")
def get_field(inbox, key: str, default: Any = None) -> Any:
    """Pick one field of a record (``record.get(key, default)``).

    A list of records gives the list of their fields.

    Args:
        key: the field name (for lists and tuples, an int index as text or int).
        default: returned when the field is missing.
    """
    def pick(record):
        if isinstance(record, dict):
            return record.get(key, default)
        try:
            return record[int(key)]
        except (IndexError, ValueError, TypeError):
            return default
    item = inbox[0]
    if isinstance(item, list) and item and isinstance(item[0], dict):
        return [pick(r) for r in item]
    return pick(item)
