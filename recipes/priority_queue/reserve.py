"""Anti-starvation: a worker's work queue that keeps threads for lower levels.

All threads of a Dramatiq worker process take messages from one ``PriorityQueue``, lowest
actor priority first, so a flood of urgent work takes every thread and lower levels stop.
``ReservingWorkQueue`` replaces that queue (at ``before_worker_boot``, before any thread
holds it) and changes only which waiting message a free thread gets:

* A message of level ``i`` above the lowest may start only while the jobs of levels
  ``0..i`` running in this process number fewer than ``threads - reserved``; otherwise the
  thread takes the best waiting message of a lower level.
* If no lower-level message waits, the thread takes the urgent one anyway (no thread idles
  while work waits); the next threads to free up go to lower levels as soon as they have work.

Running jobs are counted per thread: a worker thread calls ``task_done`` when it is done
with the message it got, on every path (success, failure, skip).
Why not a smaller prefetch for urgent queues: a thread freed by an urgent job would find no
urgent message in memory until the next poll and start a low one, so urgent work would lose
about half its threads (measured; see the README).
"""

from __future__ import annotations

import heapq
import threading
from queue import PriorityQueue
from typing import Any


class ReservingWorkQueue(PriorityQueue[Any]):
    def __init__(self, ranks: dict[str, int], *, limit: int) -> None:
        super().__init__()
        self.ranks = ranks  # queue name -> level index; the lowest level is left out
        self.limit = limit
        self.running = [0] * (max(ranks.values(), default=-1) + 1)
        self._held: dict[int, int] = {}  # worker thread -> rank of the job it runs

    def _allowed(self, rank: int | None) -> bool:
        return rank is None or sum(self.running[: rank + 1]) < self.limit

    def _get(self) -> Any:  # called by get() with the queue's mutex held
        heap = self.queue
        best: int | None = None
        for index, item in enumerate(heap):
            if self._allowed(self.ranks.get(item.message.queue_name)) and (
                    best is None or item < heap[best]):
                best = index
        if best is None or best == 0:
            item = heapq.heappop(heap)
        else:
            item = heap[best]
            heap[best] = heap[-1]
            heap.pop()
            heapq.heapify(heap)
        rank = self.ranks.get(item.message.queue_name)
        if rank is not None:
            self.running[rank] += 1
            self._held[threading.get_ident()] = rank
        return item

    def task_done(self) -> None:
        with self.mutex:
            rank = self._held.pop(threading.get_ident(), None)
            if rank is not None:
                self.running[rank] -= 1
        super().task_done()
