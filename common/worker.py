"""Run a Dramatiq worker inside this process (demos, notebooks, tests).

Production runs the ``dramatiq`` CLI, which emits ``process_boot`` itself. An in-process
``Worker`` does not: without it the TimeLimit timer thread never starts and time limits
silently do nothing. ``running_worker`` emits it once per broker, and removes the
worker's private middleware on exit so the broker can host another worker later.

Copy alone: needs dramatiq.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import dramatiq

STOP_TIMEOUT_MS = 10_000


def boot(broker: dramatiq.Broker) -> None:
    if not getattr(broker, "_cookbook_booted", False):
        broker.emit_after("process_boot")
        broker._cookbook_booted = True  # type: ignore[attr-defined]


@contextmanager
def running_worker(
    broker: dramatiq.Broker,
    *,
    queues: Iterable[str] | None = None,
    threads: int = 8,
    worker_timeout_ms: int = 100,
    stop_timeout_ms: int = STOP_TIMEOUT_MS,
) -> Iterator[dramatiq.Worker]:
    boot(broker)
    worker = dramatiq.Worker(
        broker,
        queues=set(queues) if queues is not None else None,
        worker_threads=threads,
        worker_timeout=worker_timeout_ms,
    )
    worker.start()
    try:
        yield worker
    finally:
        worker.stop(timeout=stop_timeout_ms)
        # Worker.start() adds a _WorkerMiddleware that stop() leaves behind; a later worker
        # on the same broker would add a second one, and the stale one keeps routing.
        broker.middleware[:] = [m for m in broker.middleware
                                if getattr(m, "worker", None) is not worker]
