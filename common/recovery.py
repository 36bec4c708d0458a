"""Bounded crash recovery: a dead worker's in-flight messages return to their queue in time.

Dramatiq's Redis broker requeues a dead worker's unacked messages only during
"maintenance", which runs on 0.1% of broker calls and only for the queue of that call,
after a 60 s heartbeat timeout: on a quiet system that can take hours. Its heartbeat is
also written only when a consumer talks to Redis, so a worker whose threads are all busy
with long jobs can look dead and have its work run twice.

This middleware starts one thread per worker process that, every ``interval_ms``:
1. refreshes this worker's heartbeat (so busy workers never look dead), and
2. requeues the unacked messages of every worker whose heartbeat is older than
   ``heartbeat_timeout_ms`` (each ack set is moved by one atomic Lua call).

Bound: a killed worker's messages are back on their queue within
``heartbeat_timeout_ms + 2 * interval_ms`` (``Settings.recovery_bound_s``), and run as
soon as a live worker has a free thread.

Copy alone: needs dramatiq and redis.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import dramatiq
import redis
from dramatiq.middleware import Middleware

log = logging.getLogger(__name__)

# Moves every id of one dead worker's ack set back to its queue, if the payload still exists.
_REQUEUE_LUA = """
local ids = redis.call('smembers', KEYS[1])
local moved = 0
for _, id in ipairs(ids) do
  if redis.call('hexists', KEYS[3], id) == 1 then
    redis.call('rpush', KEYS[2], id)
    moved = moved + 1
  end
end
redis.call('del', KEYS[1])
return moved
"""


class CrashRecovery(Middleware):
    def __init__(self, *, heartbeat_timeout_ms: int, interval_ms: int) -> None:
        if interval_ms * 2 >= heartbeat_timeout_ms:
            raise ValueError("recovery interval must be under half the heartbeat timeout")
        self.heartbeat_timeout_ms = heartbeat_timeout_ms
        self.interval_ms = interval_ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(broker,), name="crash-recovery", daemon=True
        )
        self._thread.start()

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        # Heartbeats continue until in-flight jobs are done; only then may peers take over.
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval_ms / 1000 * 2)

    def _run(self, broker: Any) -> None:
        script = broker.client.register_script(_REQUEUE_LUA)
        while not self._stop.wait(self.interval_ms / 1000):
            try:
                self.beat(broker)
                self.recover(broker, script)
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                log.warning("crash recovery could not reach Redis: %s", exc)
            except Exception:
                log.exception("crash recovery pass failed")

    def beat(self, broker: Any) -> None:
        now_ms = int(time.time() * 1000)
        broker.client.zadd(f"{broker.namespace}:__heartbeats__", {broker.broker_id: now_ms})

    def recover(self, broker: Any, script: Any | None = None) -> int:
        """One pass: requeue what dead workers held. Returns the number of messages moved."""
        client: redis.Redis = broker.client
        script = script or client.register_script(_REQUEUE_LUA)
        ns = broker.namespace
        heartbeats = f"{ns}:__heartbeats__"
        cutoff = int(time.time() * 1000) - self.heartbeat_timeout_ms
        moved = 0
        dead_ids: list[bytes] = client.zrangebyscore(heartbeats, 0, cutoff)  # type: ignore[assignment]
        for raw_id in dead_ids:
            dead = raw_id.decode()
            prefix = f"{ns}:__acks__.{dead}."
            for raw_key in client.scan_iter(match=prefix + "*", count=500):
                key = raw_key.decode() if isinstance(raw_key, bytes) else raw_key
                queue = key[len(prefix):]
                queue_key = f"{ns}:{queue}"
                moved += int(script(keys=[key, queue_key, queue_key + ".msgs"]))
            client.zrem(heartbeats, dead)
            if moved:
                log.warning("requeued %d messages of dead worker %s", moved, dead)
        return moved
