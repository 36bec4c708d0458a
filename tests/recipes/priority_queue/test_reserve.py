"""ReservingWorkQueue: which waiting message a free worker thread gets (no Redis needed)."""

from __future__ import annotations

import threading
from queue import Empty
from types import SimpleNamespace
from typing import Any

from dramatiq.worker import _WorkQueueItem

from recipes.priority_queue import PRIORITY_STEP, queue_name
from recipes.priority_queue.reserve import ReservingWorkQueue
from tests.support import wait_until

RANKS = {queue_name("high"): 0, queue_name("normal"): 1}  # "low" is the lowest level


def item(level: str, rank: int) -> _WorkQueueItem:
    message: Any = SimpleNamespace(queue_name=queue_name(level))
    return _WorkQueueItem(rank * PRIORITY_STEP, message)


class Thread:
    """A worker thread that takes one message and holds it until ``finish``."""

    def __init__(self, queue: ReservingWorkQueue) -> None:
        self.queue = queue
        self.got: list[str] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                taken = self.queue.get(timeout=0.5)
            except Empty:
                return  # the test is over
            self.got.append(taken.message.queue_name.split(".")[-1])
            self._done.wait(5)
            self._done.clear()
            self.queue.task_done()

    def finish_and_take_next(self) -> None:
        taken = len(self.got)
        self._done.set()
        wait_until(lambda: len(self.got) > taken, timeout=5, interval=0.001)


def started(queue: ReservingWorkQueue, n: int) -> list[Thread]:
    threads = []
    for _ in range(n):
        thread = Thread(queue)
        wait_until(lambda t=thread: t.got, timeout=5, interval=0.001)
        threads.append(thread)
    return threads


def test_urgent_levels_stop_at_the_limit_while_lower_work_waits() -> None:
    queue = ReservingWorkQueue(RANKS, limit=2)
    for _ in range(4):
        for rank, level in enumerate(("high", "normal", "low")):
            queue.put(item(level, rank))
    threads = started(queue, 4)
    # 2 threads for high; then high and normal together are at the limit: low gets the rest.
    assert [t.got[0] for t in threads] == ["high", "high", "low", "low"]
    assert queue.running == [2, 0]
    threads[0].finish_and_take_next()  # a high slot frees: high again, FIFO within the level
    assert threads[0].got == ["high", "high"]
    threads[2].finish_and_take_next()  # a low job ends: still no room above low
    assert threads[2].got == ["low", "low"]
    assert queue.running == [2, 0]


def test_a_middle_level_is_allowed_while_the_top_is_below_the_limit() -> None:
    queue = ReservingWorkQueue(RANKS, limit=2)
    queue.put(item("high", 0))
    for _ in range(3):
        queue.put(item("normal", 1))
        queue.put(item("low", 2))
    threads = started(queue, 4)
    assert [t.got[0] for t in threads] == ["high", "normal", "low", "low"]


def test_no_thread_idles_when_only_urgent_work_waits() -> None:
    queue = ReservingWorkQueue(RANKS, limit=1)
    for _ in range(3):
        queue.put(item("high", 0))
    threads = started(queue, 3)
    assert [t.got[0] for t in threads] == ["high"] * 3
    queue.put(item("low", 2))
    queue.put(item("high", 0))
    threads[0].finish_and_take_next()  # over the limit: the waiting low job goes first
    assert threads[0].got == ["high", "low"]
