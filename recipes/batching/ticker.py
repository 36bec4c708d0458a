"""Age-based flushing: a thread in every worker process calls ``flush_due`` on a short tick.

Why a ticker and not a delayed "flush" message per batch: it needs no extra state to be
crash-safe (an item waiting in the list is flushed by whichever worker ticks next), and it
is more precise than Dramatiq's delay queue (which promotes messages with ~1 s precision).
Several workers ticking at once are harmless: each flush is one atomic Lua call that only
moves what is due. Cost: one small pipelined read per batcher per tick per worker process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

import dramatiq
import redis
from dramatiq.middleware import Middleware

log = logging.getLogger(__name__)
MIN_TICK_MS, MAX_TICK_MS = 20, 1_000


class FlushTicker(Middleware):
    def __init__(self, batchers: Sequence[Any]) -> None:
        self.batchers = list(batchers)
        shortest = min(b.config.max_age_ms for b in self.batchers)
        self.tick_ms = max(MIN_TICK_MS, min(MAX_TICK_MS, shortest // 4))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="batch-flush-ticker",
                                        daemon=True)
        self._thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def _run(self) -> None:
        while not self._stop.wait(self.tick_ms / 1000):
            self.tick()

    def tick(self) -> int:
        flushed = 0
        for batcher in self.batchers:
            try:
                flushed += batcher.flush_due()
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                log.warning("flush ticker could not reach Redis: %s", exc)
            except Exception:
                log.exception("flush ticker failed for batcher %s", batcher.name)
        return flushed
