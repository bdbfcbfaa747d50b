"""How much a pool holds and sends at a time: input budgets and chunk sizes.

Memory is bounded by the items a task holds (pulled, not yet consumed).
With an explicit ``stride``/``buffer`` that is the task's share of the
buffer.  By default it adapts to the measured cost and size of items:
enough for about TARGET_INFLIGHT_S of work per worker, so cheap functions
stream thousands of items while slow ones hold a few, which keeps pause and
stop (which let pulled items finish) prompt; and a *slow start* holds at
most twice what has completed (ten times on Dask slots, whose round trip
costs ten local ones), so a few fast first items do not license thousands
of slow ones.

The consumer's pace counts as well, measured between its takes (see
``records.Task.note_consumer``): it takes about TARGET_TAKE_S of its own
work at a time, one result at first; until its pace is known the slow start
counts what it is done with, and once known a task faster than its consumer
holds about TARGET_INFLIGHT_S of the consumer's work -- a fast piper before a
slow one no longer runs thousands of items ahead, all of which pause and
stop would wait for.

Chunks aim at a slot's target of measured work per message (about 10 ms
for local workers), capped in items and bytes: a chunk sent fits a pipe
(1 MiB), so the dispatcher never waits to write one; a reply may be twice
that, since every reply costs the driving process a hand-over whatever its
size, and a worker may wait for the dispatcher to read the second half.
Until a task's cost is known its chunks hold one item, so its first items
spread over idle workers; expensive items are shared out more finely as the
queue runs low (guided scheduling, down to a fifth of the target), so that
no worker is left with a long tail.  A chunk may take items from several
pulls.
These functions are called under the pool manager's lock.
"""
from __future__ import annotations

import time
from collections.abc import Iterable

from ..errors import IMapError
from .records import Task
from .slots import TARGET_CHUNK_S

__all__ = ["Limits", "ends_soon", "DEFAULT_STRIDE", "MAX_OUTSTANDING", "TARGET_CHUNK_S"]

DEFAULT_STRIDE = 16384
TARGET_INFLIGHT_S = 0.5          # default: work held in flight per worker
MAX_INFLIGHT_BYTES = 64 * 2**20  # default: pickled bytes a task holds in flight
MAX_CHUNK_BYTES = 1 * 2**20      # pickled bytes per chunk sent: it fits a widened pipe
MAX_REPLY_BYTES = 2 * 2**20      # pickled bytes per reply: see chunk_size
MAX_CHUNK_ITEMS = 4096           # more per message gains nothing, and pipelines worse
MAX_OUTSTANDING = 2              # chunks per slot: one running, one waiting
TARGET_TAKE_S = 0.05             # a consumer takes about this much of its own work at once
CONSUMER_TRUST_S = 0.01          # measured consumer time before its pace holds the input


class Limits:
    """A pool's stride, buffer and the budgets of its tasks."""

    def __init__(self, stride: int | None, buffer: int | None) -> None:
        self.stride = stride
        self.buffer = buffer
        self.fixed = stride is not None or buffer is not None
        self.chunk_s = TARGET_CHUNK_S   # the slots' mean work per chunk (Dask slots: more)

    def max_pull(self) -> int:
        return self.stride or DEFAULT_STRIDE

    def set_budgets(self, tasks: list[Task], name: str) -> None:
        """Share the buffer between ``tasks`` (at start)."""
        ntasks = max(1, len(tasks))
        buffer = self.buffer if self.buffer is not None else 2 * self.max_pull() * ntasks
        if buffer < ntasks:
            raise IMapError(f"IMap {name!r}: buffer ({buffer}) must be at least the "
                            f"number of tasks ({ntasks})")
        for t in tasks:
            t.budget = max(1, buffer // ntasks)

    def pull_size(self, tasks: Iterable[Task]) -> int:
        """Items pulled at a time: the stride, or less when the buffer is small."""
        budget = min((t.budget for t in tasks if t.budget), default=0)
        return min(self.max_pull(), budget) if budget else self.max_pull()

    def limit(self, task: Task, nslots: int) -> int:
        """How many items ``task`` may hold (pulled, not yet consumed)."""
        if self.fixed:
            return task.budget
        n = max(1, nslots)
        if task.cost is None:
            return min(task.budget, 4 * n)
        want = int(n * TARGET_INFLIGHT_S / max(task.cost, 1e-9))
        if task.item_bytes:  # large items: bound the bytes in flight as well
            want = min(want, int(MAX_INFLIGHT_BYTES / task.item_bytes))
        pace, seen = task.consumer_pace(time.perf_counter())
        # the slow start counts what the consumer is done with, too, until its
        # pace is known: a slow consumer then holds back a fast producer at once
        done = task.done if seen >= CONSUMER_TRUST_S else min(task.done, task.digested())
        want = min(want, max(4 * n, self.slow_start(done)))
        if pace and seen >= CONSUMER_TRUST_S:
            # a slower consumer holds what is in flight to its own pace: what
            # it does in TARGET_INFLIGHT_S, and one item per worker
            want = min(want, n + int(TARGET_INFLIGHT_S / pace))
            return max(1, min(task.budget, want))
        return max(min(task.budget, 4 * n), min(task.budget, want))

    def take_size(self, task: Task) -> int | None:
        """The most results a consumer takes next (None: all that are in).

        About TARGET_TAKE_S of its own measured work, and at most twice its
        last take (one at first): a serial piper slower than its producer
        then works in short batches, which keeps pause and stop prompt and
        tells the pool its pace after its first item.  Not with a fixed
        stride or buffer, which say what a task may hold.
        """
        if self.fixed:
            return None
        cap = 2 * task.take_cap if task.take_cap else 1
        if task.consumer_cost:
            cap = min(cap, max(1, int(TARGET_TAKE_S / task.consumer_cost)))
        return cap

    def slow_start(self, done: int) -> int:
        """Items ``done`` items license: twice as many per round trip, and as many
        more rounds' worth as a slot's chunk is longer than a local one's (a
        Dask round trip costs about ten local ones)."""
        return max(2, round(self.chunk_s / TARGET_CHUNK_S)) * done

    def may_pull(self, task: Task, nslots: int, stride: int) -> bool:
        """True when ``task``'s feeder may pull another batch now.

        By default the input follows the consumer's pace: while a batch of
        results waits to be taken, nothing more is pulled, so a slow
        consumer holds the input back to what keeps the workers busy plus
        one batch, instead of letting it run ahead to the budget.
        """
        if task.held <= 0:
            return True
        if self.fixed:
            return task.held + stride <= task.budget
        if task.held >= self.limit(task, nslots):
            return False
        if task.cost is None:
            return True
        waiting = task.done - task.consumed          # results not taken yet
        busy = task.held - waiting                   # queued or being evaluated
        per_worker = self.chunk_size(task, nslots, 1 << 30, self.chunk_s)
        n = max(1, nslots)
        return busy < (MAX_OUTSTANDING + 1) * n * per_worker and waiting < n * per_worker

    def waiting(self, task: Task, nslots: int) -> int:
        """Results that may wait for the consumer: about one chunk per worker."""
        return max(1, max(1, nslots) * self.chunk_size(task, nslots, 1 << 30, self.chunk_s))

    def room(self, task: Task, nslots: int, tasks: Iterable[Task]) -> int:
        """Items the feeder of ``task`` should pull next."""
        room = min(self.pull_size(tasks), self.limit(task, nslots) - task.held)
        if not self.fixed:
            room = min(room, self.waiting(task, nslots))
        return max(1, room)

    def chunk_size(self, task: Task, nslots: int, waiting: int,
                   target_s: float = TARGET_CHUNK_S) -> int:
        """Items in ``task``'s next chunk, ``waiting`` items of it being queued."""
        if task.timeout is not None or task.cost is None:
            return 1
        n = max(1, nslots)
        cap = max(1, min(MAX_CHUNK_ITEMS, self.max_pull() // n))
        size = max(1, min(cap, int(target_s / max(task.cost, 1e-9))))
        if task.in_bytes:    # the dispatcher never waits on a full pipe
            size = max(1, min(size, int(MAX_CHUNK_BYTES / task.in_bytes)))
        if task.out_bytes:   # a worker may: half as many replies for large results
            size = max(1, min(size, int(MAX_REPLY_BYTES / task.out_bytes)))
        floor = max(1, int(0.2 * target_s / max(task.cost, 1e-9)))
        if size > floor:   # guided scheduling, down to a fifth of the target's work
            size = max(floor, min(size, -(-waiting // (2 * n))))
        return size


def ends_soon(task: Task, n_items: int, target_s: float = TARGET_CHUNK_S) -> bool:
    """True when a chunk of ``n_items`` of ``task`` is measured to be short.

    A second chunk per slot hides the round trip for cheap items; behind a
    slow (or not yet measured) item it would wait while another worker may
    fall idle -- a few slow items must run in parallel, and unordered
    results leave as they finish.
    """
    return task.cost is not None and task.cost * n_items <= 2 * target_s
