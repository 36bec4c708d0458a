"""Graceful shutdown: finish in-flight jobs, requeue the rest, let long jobs checkpoint.

What Dramatiq already does on the first SIGTERM (``dramatiq`` CLI) or ``Worker.stop()``:
stop fetching, let each thread finish its current message (up to
``--worker-shutdown-timeout`` ms), then push prefetched and delayed messages back to Redis.

What this module adds:
* ``GracefulShutdown`` middleware sets a process-wide flag when shutdown begins, so a
  long job can notice it between steps (``stop_requested()``), save a checkpoint and raise
  ``common.errors.Interrupted``: the retry policy requeues it **without** counting an
  attempt, and the next run resumes from the checkpoint.
* ``Checkpoints`` keeps that per-message state in Redis (keyed by message id, which is
  stable across retries and redeliveries) with a TTL, cleared on success.

A job interrupted by Dramatiq's own ``notify_shutdown`` (an async ``Shutdown`` exception)
is requeued without counting an attempt as well (see ``common.retry``).

Copy with: ``common/errors.py``.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import dramatiq
import redis
from dramatiq.middleware import CurrentMessage, Middleware

from common.errors import Interrupted

_stopping = threading.Event()
CHECKPOINT_TTL_S = 7 * 86_400


def stop_requested() -> bool:
    """True once this worker process has started shutting down."""
    return _stopping.is_set()


def raise_if_stopping(reason: str = "worker shutting down") -> None:
    if _stopping.is_set():
        raise Interrupted(reason)


class GracefulShutdown(Middleware):
    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        # Before the threads start: a second worker in one process must not see the old flag.
        _stopping.clear()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        _stopping.set()


class Checkpoints:
    """Per-message resumable state: ``load()`` at start, ``save()`` between steps."""

    def __init__(self, client: redis.Redis, namespace: str, *, ttl_s: int = CHECKPOINT_TTL_S):
        self.client = client
        self.prefix = f"{namespace}:checkpoint:"
        self.ttl_s = ttl_s

    def _key(self, message_id: str | None) -> str:
        if message_id is None:
            current = CurrentMessage.get_current_message()
            if current is None:
                raise RuntimeError("no current message: pass message_id or add CurrentMessage")
            message_id = current.message_id
        return self.prefix + message_id

    def load(self, message_id: str | None = None) -> Any:
        raw = self.client.get(self._key(message_id))
        return None if raw is None else json.loads(raw)

    def save(self, state: Any, message_id: str | None = None) -> None:
        self.client.set(self._key(message_id), json.dumps(state), ex=self.ttl_s)

    def clear(self, message_id: str | None = None) -> None:
        self.client.delete(self._key(message_id))
