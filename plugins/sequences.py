"""Sequences: FASTA/FASTQ parsing and per-sequence statistics, in pure Python.

Records are plain dicts -- ``{"id", "description", "sequence"}`` plus
``"quality"`` (the Phred+offset string) for FASTQ -- so they pickle and
serialize to JSON.  Parsers take the text of a file (``str`` or ``bytes``,
e.g. from ``files.read_text``) and accept multi-line FASTA, blank lines and
Windows line endings; malformed input raises ``ValueError`` naming the line.
"""
from __future__ import annotations

from typing import Any

from papy_engine.plugin import node

__all__ = ["parse_fasta", "parse_fastq", "sequence_stats", "reverse_complement",
           "format_fasta"]

_COMPLEMENT = str.maketrans("ACGTUNRYSWKMBDHVacgtunryswkmbdhv",
                            "TGCAANYRSWMKVHDBtgcaanyrswmkvhdb")


def _text(item) -> str:
    return item.decode("ascii") if isinstance(item, (bytes, bytearray)) else item


def _header(line: str) -> tuple[str, str]:
    ident, _, description = line[1:].strip().partition(" ")
    return ident, description.strip()


@node(category="sequences")
def parse_fasta(inbox) -> list[dict[str, str]]:
    """Parse FASTA text into ``[{"id", "description", "sequence"}, ...]``.

    Sequence lines are joined and white space removed; case is kept.
    """
    records: list[dict[str, str]] = []
    current: dict[str, Any] | None = None
    for number, line in enumerate(_text(inbox[0]).splitlines(), 1):
        line = line.strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith(">"):
            ident, description = _header(line)
            current = {"id": ident, "description": description, "sequence": []}
            records.append(current)
        elif current is None:
            raise ValueError(f"FASTA line {number}: sequence data before the first "
                             f"'>' header: {line[:40]!r}")
        else:
            current["sequence"].append("".join(line.split()))
    for record in records:
        record["sequence"] = "".join(record["sequence"])
    return records


@node(category="sequences")
def parse_fastq(inbox) -> list[dict[str, str]]:
    """Parse FASTQ text into ``[{"id", "description", "sequence", "quality"}, ...]``.

    Each record is four lines: ``@header``, sequence, ``+``, quality; the
    quality string must be as long as the sequence.
    """
    lines = [line.strip() for line in _text(inbox[0]).splitlines()]
    records = []
    i = 0
    while i < len(lines):
        if not lines[i]:
            i += 1
            continue
        if len(lines) - i < 4:
            raise ValueError(f"FASTQ line {i + 1}: truncated record (need 4 lines, "
                             f"have {len(lines) - i})")
        head, seq, plus, qual = lines[i:i + 4]
        if not head.startswith("@"):
            raise ValueError(f"FASTQ line {i + 1}: expected '@' header, got {head[:40]!r}")
        if not plus.startswith("+"):
            raise ValueError(f"FASTQ line {i + 3}: expected '+' separator, got {plus[:40]!r}")
        if len(qual) != len(seq):
            raise ValueError(f"FASTQ line {i + 4}: quality has {len(qual)} characters, "
                             f"sequence has {len(seq)}")
        ident, description = _header(head)
        records.append({"id": ident, "description": description, "sequence": seq,
                        "quality": qual})
        i += 4
    return records


@node(category="sequences")
def sequence_stats(inbox, quality_offset: int = 33) -> dict[str, Any]:
    """Per-sequence statistics: length, GC content, base counts, N count, mean quality.

    The item is a record from ``parse_fasta``/``parse_fastq`` or a plain
    sequence string.  GC content is the fraction of G+C (and S) among
    unambiguous bases ACGTU+S+W; ``mean_quality`` (FASTQ only) is the mean
    Phred score.

    Args:
        quality_offset: the Phred offset of FASTQ quality characters (33 or 64).
    """
    item = inbox[0]
    record = item if isinstance(item, dict) else {"id": None, "sequence": item}
    seq = record["sequence"].upper()
    counts: dict[str, int] = {}
    for base in seq:
        counts[base] = counts.get(base, 0) + 1
    gc = counts.get("G", 0) + counts.get("C", 0) + counts.get("S", 0)
    at = counts.get("A", 0) + counts.get("T", 0) + counts.get("U", 0) + counts.get("W", 0)
    stats: dict[str, Any] = {
        "id": record.get("id"), "length": len(seq),
        "gc": gc / (gc + at) if gc + at else 0.0,
        "n": counts.get("N", 0), "counts": dict(sorted(counts.items())),
    }
    quality = record.get("quality")
    if quality:
        scores = [ord(c) - quality_offset for c in quality]
        if min(scores) < 0:
            raise ValueError(f"sequence {record.get('id')!r}: quality characters below "
                             f"offset {quality_offset}")
        stats["mean_quality"] = sum(scores) / len(scores)
    return stats


@node(category="sequences")
def reverse_complement(inbox) -> Any:
    """The reverse complement of a DNA sequence (IUPAC codes, case kept).

    A record gives a record with the sequence (and quality) reversed.
    """
    item = inbox[0]
    if isinstance(item, dict):
        out = dict(item, sequence=item["sequence"].translate(_COMPLEMENT)[::-1])
        if out.get("quality"):
            out["quality"] = out["quality"][::-1]
        return out
    return item.translate(_COMPLEMENT)[::-1]


@node(category="sequences")
def format_fasta(inbox, width: int = 60) -> str:
    """Format a record (or a list of records) as FASTA text.

    Args:
        width: sequence characters per line (0: one line per sequence).
    """
    item = inbox[0]
    records = item if isinstance(item, list) else [item]
    out = []
    for r in records:
        head = f">{r['id']} {r.get('description') or ''}".rstrip()
        seq = r["sequence"]
        step = width if width and width > 0 else max(len(seq), 1)
        out.append(head)
        out.extend(seq[i:i + step] for i in range(0, len(seq), step))
    return "\n".join(out) + "\n" if out else ""
