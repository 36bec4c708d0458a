"""Bench only: bare Dramatiq (stock RedisBroker, stock worker settings) for
``bench/priority_queue.py``. ``PQ_BARE_MODE=shared``: low and high actors on one queue,
ordered only by actor priority; ``split``: one queue each, as Dramatiq's docs suggest.

Every start is RPUSHed to ``<ns>:starts`` as ``level:id:epoch_ms``: list order is start order.
"""

from __future__ import annotations

import os
import time

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

NS = os.environ["COOKBOOK_NAMESPACE"]
SHARED = os.environ.get("PQ_BARE_MODE", "shared") == "shared"
client = redis.Redis.from_url(os.environ["REDIS_URL"])
broker = RedisBroker(client=client, namespace=NS)
dramatiq.set_broker(broker)


def _start(level: str, job_id: str) -> None:
    client.rpush(f"{NS}:starts", f"{level}:{job_id}:{time.time() * 1000:.3f}")


@dramatiq.actor(queue_name="pq_shared" if SHARED else "pq_low", priority=10)
def bare_low(job_id: str, work_ms: int) -> None:
    _start("low", job_id)
    time.sleep(work_ms / 1000)


@dramatiq.actor(queue_name="pq_shared" if SHARED else "pq_high", priority=0)
def bare_high(job_id: str, work_ms: int) -> None:
    _start("high", job_id)
    time.sleep(work_ms / 1000)
