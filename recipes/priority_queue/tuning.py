"""Per-level worker tuning, installed by ``register`` as one middleware.

* **Fast notice** (``bell.py``): consumers of every level above the lowest wait on a
  doorbell instead of Dramatiq's idle backoff; ``after_enqueue`` rings it for every urgent
  message this broker enqueues, including retries the worker promotes from a delay queue.
* **Anti-starvation** (``reserve.py``): with ``reserved_threads = k`` the worker's work
  queue becomes a ``ReservingWorkQueue``: levels above the lowest never hold more than
  ``threads - k`` threads while lower-level work waits.

Both are set up in ``before_worker_boot``, which runs before the worker creates its
consumer and worker threads (they take ``worker.work_queue`` and call ``broker.consume``
when created).
"""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from recipes.priority_queue import queue_name
from recipes.priority_queue.bell import BellConsumer, Doorbell
from recipes.priority_queue.config import PriorityConfig
from recipes.priority_queue.reserve import ReservingWorkQueue

log = logging.getLogger(__name__)


class LevelTuning(Middleware):
    def __init__(self, config: PriorityConfig, bell: Doorbell) -> None:
        self.config = config
        self.bell = bell
        self.urgent = {queue_name(level) for level in config.levels[:-1]}

    def after_enqueue(self, broker: dramatiq.Broker, message: Any, delay: int | None) -> None:
        if delay is None and message.queue_name in self.urgent:
            self.bell.ring(message.queue_name)

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self.config.check_threads(worker.worker_threads)
        if self.config.reserved_threads:
            ranks = {queue_name(level): i for i, level in enumerate(self.config.levels[:-1])}
            worker.work_queue = ReservingWorkQueue(
                ranks, limit=worker.worker_threads - self.config.reserved_threads)
        if not getattr(broker, "_priority_bells", False):
            # The broker builds every consumer; only urgent queues get the bell consumer.
            # (Instance attribute: CookbookBroker has no per-queue consumer hook.)
            stock = broker.consume

            def consume(queue_name: str, prefetch: int = 1, timeout: int = 5000) -> Any:
                if queue_name not in self.urgent:
                    return stock(queue_name, prefetch, timeout)
                return BellConsumer(broker, queue_name, prefetch, bell=self.bell,
                                    idle_ms=min(timeout, self.config.urgent_idle_ms))

            broker.consume = consume  # type: ignore[method-assign]
            broker._priority_bells = True  # type: ignore[attr-defined]
