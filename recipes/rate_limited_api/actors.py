"""The fetch actor: one API call per job, through the limiter every process shares.

Run with: ``uv run dramatiq recipes.rate_limited_api.worker -p 2 -t 8``
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import dramatiq
import httpx
import redis
from dramatiq.middleware import CurrentMessage

from common.jobs import TypedActor, typed_actor
from recipes.rate_limited_api import QUEUE, results_key
from recipes.rate_limited_api.api import call_api
from recipes.rate_limited_api.config import ApiSettings
from recipes.rate_limited_api.limiter import SharedRateLimiter
from recipes.rate_limited_api.models import FetchItem


class Results:
    """Item id -> what the API answered, plus the job's ``retries`` and ``deferrals``."""

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.client = client
        self.key = results_key(namespace)

    def record(self, item_id: str, data: Any) -> None:
        message = CurrentMessage.get_current_message()
        options = message.options if message is not None else {}
        self.client.hset(self.key, item_id, json.dumps({
            "data": data, "retries": options.get("retries", 0),
            "deferrals": options.get("deferrals", 0)}))

    def all(self) -> dict[str, dict[str, Any]]:
        raw: dict[bytes, bytes] = self.client.hgetall(self.key)  # type: ignore[assignment]
        return {k.decode(): json.loads(v) for k, v in raw.items()}

    def count(self) -> int:
        return int(self.client.hlen(self.key))


@dataclass(frozen=True)
class RateLimitedActors:
    fetch: TypedActor[FetchItem, None]
    limiter: SharedRateLimiter
    results: Results
    http: httpx.Client


def register(broker: dramatiq.Broker, client: redis.Redis, namespace: str,
             api: ApiSettings) -> RateLimitedActors:
    """Declare ``rate_limited_fetch`` on ``broker``, calling the API at ``api.url``."""
    limiter = SharedRateLimiter(client, namespace, api.limiter, limit=api.rate,
                                period_s=api.period_s, margin_ms=api.margin_ms,
                                max_wait_s=api.max_inline_wait_s)
    # One pooled client per process, shared by its threads (httpx.Client is thread-safe).
    http = httpx.Client(base_url=api.url, timeout=api.timeout_s,
                        headers={"Accept": "application/json"})
    results = Results(client, namespace)

    @typed_actor(broker=broker, queue_name=QUEUE, actor_name="rate_limited_fetch",
                 max_retries=api.max_retries, min_backoff=api.min_backoff_ms,
                 max_backoff=api.max_backoff_ms)
    def rate_limited_fetch(job: FetchItem) -> None:
        response = call_api(http, limiter, "GET", f"/items/{job.item_id}")
        results.record(job.item_id, response.json())

    return RateLimitedActors(fetch=rate_limited_fetch, limiter=limiter, results=results,
                             http=http)
