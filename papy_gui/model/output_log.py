"""What node functions printed during a run, line by line, each with its node.

The engine reports printed text as ``"output"`` events, per piper and in
result order (``Plumber.start(datas, capture_output=True)``); the bridge adds
each to an :class:`OutputLog` on the Tk thread and the Output tab draws what
is new (:meth:`OutputLog.since`). The log is bounded: the last
:data:`LINES` lines, a line longer than :data:`LINE_CHARS` cut (so at most
5 million characters). Text that does not end with a newline
waits for the rest of its line (per node, so two nodes' partial lines never
mix) until :meth:`OutputLog.flush` -- the end of the run.
"""
from __future__ import annotations

import itertools
from collections import deque

LINES = 5000
LINE_CHARS = 1000


class OutputLog:
    """The last lines printed by node functions: ``(seq, node, text)``, oldest first.

    ``seq`` numbers every line ever added, so a view that drew up to line ``n``
    asks for ``since(n)``.
    """

    def __init__(self, lines: int = LINES, line_chars: int = LINE_CHARS) -> None:
        self.max_lines, self.line_chars = lines, line_chars
        self.lines: deque[tuple[int, str, str]] = deque(maxlen=lines)
        self.seq = 0            # lines added so far (the seq of the last one)
        self.nodes: dict[str, int] = {}  # node -> lines it printed (kept or not)
        self._partial: dict[str, str] = {}

    def add(self, node: str, text: str) -> None:
        """Text printed by ``node``'s functions (any number of lines)."""
        if not text:
            return
        text = self._partial.pop(node, "") + text
        parts = text.split("\n")
        rest = parts.pop()  # "" when the text ended with a newline
        if len(rest) >= self.line_chars:
            parts.append(rest)
        elif rest:
            self._partial[node] = rest
        self._extend(node, parts)

    def flush(self) -> None:
        """Keep the unfinished lines as lines (the run ended)."""
        partial, self._partial = self._partial, {}
        for node, rest in partial.items():
            self._extend(node, [rest])

    def _extend(self, node: str, lines: list[str]) -> None:
        """Append ``lines`` of ``node`` in one go. A batch of a fast node can hold
        thousands and this runs on the Tk thread: no Python loop per line unless
        a line needs cutting, and the deque's ``maxlen`` drops the oldest."""
        if not lines:
            return
        n = len(lines)
        self.nodes[node] = self.nodes.get(node, 0) + n
        if n > self.max_lines:  # only the last ones can be kept anyway
            self.seq += n - self.max_lines
            lines = lines[-self.max_lines:]
        limit = self.line_chars
        if max(map(len, lines)) > limit or any(line.endswith("\r") for line in lines):
            lines = [line if len(line) <= limit else
                     line[:limit] + f" … ({len(line) - limit:,} more characters)"
                     for line in (x.rstrip("\r") for x in lines)]
        first = self.seq + 1
        self.seq += len(lines)
        self.lines.extend(zip(itertools.count(first), itertools.repeat(node), lines))

    @property
    def dropped(self) -> int:
        """Lines no longer kept."""
        return self.seq - len(self.lines)

    def since(self, seq: int,
              limit: int | None = None) -> tuple[list[tuple[int, str, str]], int]:
        """The lines added after line ``seq`` (the last ``limit`` of them), and how
        many lines after ``seq`` are not in that list (dropped, or beyond ``limit``):
        0 means they follow line ``seq`` without a gap."""
        new = self.seq - seq
        if new <= 0:
            return [], 0
        take = min(new, len(self.lines), limit if limit is not None else new)
        # from the right end: indexing the middle of a deque is O(n)
        lines = list(itertools.islice(reversed(self.lines), take))
        lines.reverse()
        return lines, new - take
