"""How one run's items flow: the streams between pipers and where each is evaluated.

:class:`Wiring` reads the graph once and connects, in topological order,
every piper's input streams (the input gate for input pipers, the upstream
pipers' result streams otherwise, broadcast when one feeds several) to its
evaluation: a task of its IMap for a parallel piper -- one task for a fused
chain (:mod:`papy_engine.fusion`) -- or, for a serial piper, a loop in the
thread that pulls its results.  Items move in batches at every hop.  The
input gate's pull size adapts to the slowest piper so that pause and stop
stay prompt.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING

from . import _flow
from .fusion import chains
from .piper import Piper
from .pool import Driver, Mode, run_chunk
from .pool.chain import Chain
from .pool.records import Batch
from .record import Recorder

if TYPE_CHECKING:
    from .dagger import Dagger

__all__ = ["Wiring", "SERIAL_BATCH"]

log = logging.getLogger(__name__)

SERIAL_BATCH = 1024
FIRST_PULL = 8          # input items pulled before any cost is known
TARGET_PULL_S = 0.05    # by default, pull about this much work at a time


class Wiring:
    """The streams of one run, built from the graph."""

    def __init__(self, graph: Dagger, datas: list, drivers: list[Driver],
                 recorder: Recorder, stride: int | None, capture: bool, fuse: bool,
                 watched: set[str]) -> None:
        self.pipers = graph.postorder()
        self.gate = _flow.Gate()
        self.serial_busy = 0                  # serial batches being evaluated now
        self.debug_errors: set[int] = set()   # ids of exceptions raised by debug pipers
        self._rec = recorder
        self._workers = {id(p): d for p in self.pipers for d in drivers
                         if p.parallel and d.imap is p.parallel}
        self._stride = stride
        self._cap = stride or min((d.max_pull() for d in drivers), default=SERIAL_BATCH)
        self._last_pull = FIRST_PULL // 2
        self._capture = capture
        # no fusion while output is captured: the editor shows every node's data
        self._chains = chains(graph, watched) if fuse and not capture else []
        self.outputs = self._wire(graph, datas)

    def _wire(self, graph: Dagger, datas: list) -> list[tuple[Piper, Iterator[list]]]:
        inputs = graph.get_inputs()
        head_of = {id(c[0]): c for c in self._chains}
        inside = {id(q) for c in self._chains for q in c[1:]}
        streams: dict[Piper, Iterator[list]] = {}
        fanout: dict[Piper, list] = {}
        for p in self.pipers:
            if id(p) in inside:
                continue   # evaluated by its chain's first piper
            chain = head_of.get(id(p), [p])
            if p in inputs:
                ups = [self.gate.batches(p.name, datas[inputs.index(p)], self.pull_size)]
                names = ["input"]
            else:
                parents = graph.parents_of(p)
                ups = [self._upstream(u, len(graph.children_of(u)), streams, fanout)
                       for u in parents]
                names = [u.name for u in parents]
            boxes = self._rec.started(chain, _flow.inboxes(ups, p.consume, self._cap, names,
                                                           p.name))
            last = chain[-1]
            mode = Mode(_flow.boxed(ups, p.consume), p.timeout is not None, last.produce,
                        last.repeat, self._capture)
            streams[last] = self._rec.emit_results(chain, self._evaluate(chain, boxes, mode))
        return [(p, streams[p]) for p in graph.get_outputs()]

    def _upstream(self, u: Piper, readers: int, streams: dict, fanout: dict) -> Iterator[list]:
        if readers == 1:
            return streams[u]
        if u not in fanout:
            fanout[u] = [_flow.Broadcast(streams[u], readers, 8 * self._cap, u.name), 0]
        entry = fanout[u]
        entry[1] += 1
        return entry[0].consumer(entry[1] - 1)

    def pull_size(self) -> int:
        """Input items to pull next: ``stride``, or adaptive to the slowest piper.

        Pause and stop let pulled items finish, so by default the pipeline
        pulls about TARGET_PULL_S of work at a time -- thousands of items for
        cheap functions, a handful for slow ones.
        """
        if self._stride:
            return self._stride
        worst = self._rec.slowest(self.pipers, self._nworkers)
        target = FIRST_PULL if worst == 0.0 else max(1, int(TARGET_PULL_S / worst))
        # Ramp up: at most double the last pull.  A few fast first items must
        # not license pulling thousands when later ones are slow (or hang):
        # everything pulled has to finish before stop() returns.
        size = max(1, min(self._cap, target, 2 * self._last_pull))
        self._last_pull = size
        return size

    def _nworkers(self, p: Piper) -> int:
        d = self._workers.get(id(p))
        return d.workers() if d else 1

    # -- evaluation ----------------------------------------------------------------------
    def _evaluate(self, chain: Sequence[Piper], boxes: Iterator[list], mode: Mode
                  ) -> Iterator[Batch]:
        head = chain[0]
        d = self._workers.get(id(head))
        if d is None:
            return self._serial(head, boxes, mode)
        func = head.worker if len(chain) == 1 else Chain([(q.worker, q.name) for q in chain])
        tid = d.add_task(func, boxes, name=head.name, timeout=head.timeout,
                         ordered=head.ordered, mode=mode,
                         on_chunk=partial(self._rec.account, tuple(chain)))
        return d.batches(tid)

    def _serial(self, p: Piper, boxes: Iterator[list], mode: Mode) -> Iterator[Batch]:
        start = 0
        for batch in boxes:
            with self._rec.lock:
                self.serial_busy += 1
            try:
                results, created, busy, output = run_chunk(p.worker, batch, start, p.name,
                                                           mode=mode)
            except Exception as exc:  # only a debug=True worker raises
                self.debug_errors.add(id(exc))
                raise
            finally:
                with self._rec.lock:
                    self.serial_busy -= 1
            for off in created:
                log.error("piper %s: item %s became a placeholder: %s", p.name,
                          results[off].index, results[off])
            self._rec.account((p,), len(batch), [results[o] for o in created], 0, busy)
            yield Batch(results, output, start)
            start += len(batch)

