"""The job that calls the dependency through the shared breaker.

Run with: ``uv run dramatiq recipes.circuit_breaker.worker -p 2 -t 8``
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import dramatiq
import httpx
import redis
from dramatiq.middleware import CurrentMessage

from common.jobs import TypedActor, typed_actor
from recipes.circuit_breaker import DEPENDENCY, QUEUE, RESULTS_TTL_S, results_key
from recipes.circuit_breaker.breaker import CircuitBreaker
from recipes.circuit_breaker.calls import fetch
from recipes.circuit_breaker.config import ApiConfig, BreakerConfig
from recipes.circuit_breaker.models import FetchItem


@dataclass(frozen=True)
class BreakerActors:
    fetch_item: TypedActor[FetchItem, None]
    breaker: CircuitBreaker
    client: redis.Redis
    namespace: str

    def results(self) -> dict[str, dict[str, int]]:
        raw: dict[bytes, bytes] = self.client.hgetall(results_key(self.namespace))  # type: ignore[assignment]
        return {k.decode(): json.loads(v) for k, v in raw.items()}


def register(broker: dramatiq.Broker, client: redis.Redis, namespace: str, *,
             config: BreakerConfig | None = None, api: ApiConfig | None = None,
             max_retries: int = 5) -> BreakerActors:
    breaker = CircuitBreaker(client, namespace, DEPENDENCY, config or BreakerConfig())
    api = api or ApiConfig()
    http = httpx.Client(timeout=api.timeout_s)  # thread-safe, pooled keep-alive connections

    @typed_actor(broker=broker, queue_name=QUEUE, actor_name="fetch_item",
                 max_retries=max_retries, min_backoff=200, max_backoff=5_000)
    def fetch_item(job: FetchItem) -> None:
        fetch(http, breaker, api.url, job.item)
        message = CurrentMessage.get_current_message()
        options = message.options if message else {}
        # Bookkeeping for the proof: attempts spent vs re-schedules that cost none.
        record = {"retries": options.get("retries", 0), "deferrals": options.get("deferrals", 0)}
        pipe = client.pipeline(transaction=True)
        pipe.hset(results_key(namespace), job.item, json.dumps(record))
        pipe.expire(results_key(namespace), RESULTS_TTL_S)
        pipe.execute()

    return BreakerActors(fetch_item=fetch_item, breaker=breaker, client=client,
                         namespace=namespace)
