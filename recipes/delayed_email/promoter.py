"""The promoter: a thread in every worker process moves due emails onto the queue.

Started by ``after_worker_boot`` and stopped by ``before_worker_shutdown``, so it runs
wherever workers run and nowhere else. Several promoters are safe: each pass is one Lua
call that takes due ids out of the sorted set and enqueues them together, so an id is
promoted by exactly one of them. A pass moves at most ``batch`` emails; a tick repeats
passes while they come back full, up to ``max_passes`` (bounded work per tick).
"""

from __future__ import annotations

import logging
import threading

import dramatiq
import redis
from dramatiq.middleware import Middleware

from recipes.delayed_email.schedule import Schedule

log = logging.getLogger(__name__)


class Promoter(Middleware):
    def __init__(self, schedule: Schedule, *, interval_ms: int, batch: int,
                 max_passes: int = 20) -> None:
        self.schedule = schedule
        self.interval_ms, self.batch, self.max_passes = interval_ms, batch, max_passes
        self.ticks = self.promoted = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="email-promoter", daemon=True)
        self._thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_ms / 1000):
            self.tick()

    def tick(self) -> int:
        moved = 0
        try:
            for _ in range(self.max_passes):
                n = self.schedule.promote(limit=self.batch)
                moved += n
                if n < self.batch:
                    break
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            log.warning("email promoter could not reach Redis: %s", exc)
        except Exception:
            log.exception("email promoter pass failed")
        self.promoted += moved
        self.ticks += 1
        return moved
