"""Bench only: the same API call with bare Dramatiq (stock RedisBroker and Retries, and
Dramatiq's own ``WindowRateLimiter``), for ``bench/rate_limited_api.py`` to compare against.

``acquire`` says yes or no and nothing about when to come back, so a refused call sleeps a
little and asks again (counted as a poll); a 429 is an exception, retried as an attempt.
"""

from __future__ import annotations

import os
import time

import dramatiq
import httpx
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.rate_limits import WindowRateLimiter
from dramatiq.rate_limits.backends import RedisBackend

NS = os.environ["COOKBOOK_NAMESPACE"]
POLL_S = 0.01
client = redis.Redis.from_url(os.environ["REDIS_URL"])
broker = RedisBroker(client=client, namespace=NS)
dramatiq.set_broker(broker)
limiter = WindowRateLimiter(RedisBackend(client=client), f"{NS}:window",
                            limit=int(os.environ["RATE_LIMITED_API_RATE"]), window=1)
http = httpx.Client(base_url=os.environ["RATE_LIMITED_API_URL"], timeout=10)


@dramatiq.actor(queue_name="bare_api", max_retries=100, min_backoff=200, max_backoff=2_000)
def bare_fetch(item_id: str) -> None:
    while True:
        with limiter.acquire(raise_on_failure=False) as acquired:
            if acquired:
                break
        client.incr(f"{NS}:polls")
        time.sleep(POLL_S)
    response = http.get(f"/items/{item_id}")
    if response.status_code == 429:
        client.incr(f"{NS}:attempts_lost")
        raise RuntimeError("upstream 429")  # Dramatiq's Retries: counts an attempt
    response.raise_for_status()
    client.hset(f"{NS}:done", item_id, 1)
