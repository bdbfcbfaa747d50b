"""What node functions printed during a run, line by line, each with its node.

The engine reports printed text as ``"output"`` events, per piper and in
result order (``Plumber.start(datas, capture_output=True)``); the bridge adds
each to an :class:`OutputLog` on the Tk thread and the Output tab draws what
is new (:meth:`OutputLog.since`). The log is bounded: the last
:data:`LINES` lines, at most :data:`CHARS` characters in all, and a line
longer than :data:`LINE_CHARS` is cut. Text that does not end with a newline
waits for the rest of its line (per node, so two nodes' partial lines never
mix) until :meth:`OutputLog.flush` -- the end of the run.
"""
from __future__ import annotations

from collections import deque

LINES = 5000
CHARS = 1_000_000
LINE_CHARS = 2000


class OutputLog:
    """The last lines printed by node functions: ``(seq, node, text)``, oldest first.

    ``seq`` numbers every line ever added, so a view that drew up to line ``n``
    asks for ``since(n)``.
    """

    def __init__(self, lines: int = LINES, chars: int = CHARS,
                 line_chars: int = LINE_CHARS) -> None:
        self.max_lines, self.max_chars, self.line_chars = lines, chars, line_chars
        self.lines: deque[tuple[int, str, str]] = deque()
        self.seq = 0            # lines added so far (the seq of the last one)
        self.dropped = 0        # lines no longer kept
        self.nodes: dict[str, int] = {}  # node -> lines it printed (kept or not)
        self._chars = 0
        self._partial: dict[str, str] = {}

    def add(self, node: str, text: str) -> None:
        """Text printed by ``node``'s functions (any number of lines)."""
        if not text:
            return
        text = self._partial.pop(node, "") + text
        parts = text.split("\n")
        rest = parts.pop()  # "" when the text ended with a newline
        for line in parts:
            self._append(node, line)
        if len(rest) >= self.line_chars:
            self._append(node, rest)
        elif rest:
            self._partial[node] = rest

    def flush(self) -> None:
        """Keep the unfinished lines as lines (the run ended)."""
        partial, self._partial = self._partial, {}
        for node, rest in partial.items():
            self._append(node, rest)

    def _append(self, node: str, line: str) -> None:
        line = line.rstrip("\r")
        if len(line) > self.line_chars:
            line = line[:self.line_chars] + f" … ({len(line) - self.line_chars:,} more characters)"
        self.seq += 1
        self.nodes[node] = self.nodes.get(node, 0) + 1
        self.lines.append((self.seq, node, line))
        self._chars += len(line)
        while self.lines and (len(self.lines) > self.max_lines or self._chars > self.max_chars):
            _, _, old = self.lines.popleft()
            self._chars -= len(old)
            self.dropped += 1

    def since(self, seq: int) -> tuple[list[tuple[int, str, str]], bool]:
        """The lines added after line ``seq``, and whether they follow it without a
        gap (False: some were dropped in between, so a view should redraw all)."""
        if seq >= self.seq:
            return [], True
        first = self.lines[0][0] if self.lines else self.seq + 1
        if seq + 1 < first:
            return list(self.lines), False
        skip = seq + 1 - first
        return [self.lines[i] for i in range(skip, len(self.lines))], True
