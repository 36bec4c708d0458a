"""Per-level worker tuning through Dramatiq's documented middleware hooks.

* **Fast notice.** Dramatiq gives every consumer of a process the same idle timeout (1 s by
  default): an idle consumer backs off up to that long between polls, so an urgent job sent
  to an idle queue could wait a second while the backlog keeps starting. Consumers of every
  level above the lowest poll at most every ``urgent_poll_ms`` instead. The hook runs in each
  consumer thread just before it builds its consumer, so the value set here is the one
  ``broker.consume(timeout=...)`` receives.
* **Anti-starvation.** With ``reserved_threads = k`` the worker's work queue becomes a
  ``ReservingWorkQueue``: levels above the lowest never hold more than ``threads - k``
  threads while lower-level work waits.
"""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from recipes.priority_queue import queue_name
from recipes.priority_queue.config import PriorityConfig
from recipes.priority_queue.reserve import ReservingWorkQueue

log = logging.getLogger(__name__)


class LevelTuning(Middleware):
    def __init__(self, config: PriorityConfig) -> None:
        self.config = config
        self.urgent = {queue_name(level) for level in config.levels[:-1]}

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        # Runs before the worker creates its consumer and worker threads, which all take a
        # reference to worker.work_queue when they are created.
        self.config.check_threads(worker.worker_threads)
        if self.config.reserved_threads:
            ranks = {queue_name(level): i for i, level in enumerate(self.config.levels[:-1])}
            worker.work_queue = ReservingWorkQueue(
                ranks, limit=worker.worker_threads - self.config.reserved_threads)

    def after_consumer_thread_boot(self, broker: dramatiq.Broker, thread: Any) -> None:
        if thread.queue_name in self.urgent:  # the lowest level and delay queues: stock
            thread.worker_timeout = min(thread.worker_timeout, self.config.urgent_poll_ms)
            log.debug("consumer %s polls at most every %d ms when idle", thread.queue_name,
                      thread.worker_timeout)
