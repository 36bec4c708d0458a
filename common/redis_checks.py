"""Warn at worker start when Redis is set up to lose jobs.

* An evicting ``maxmemory-policy`` (anything but ``noeviction``) lets Redis drop queue keys
  under memory pressure: jobs vanish without an error.
* No persistence (no AOF, no RDB) while a queue is marked critical
  (``COOKBOOK_CRITICAL_QUEUES``): a Redis restart loses every queued job.

Managed Redis often disables ``CONFIG``; the checks fall back to ``INFO`` and say so.

Copy alone: needs dramatiq and redis.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import dramatiq
import redis
from dramatiq.middleware import Middleware

log = logging.getLogger(__name__)


def redis_warnings(client: redis.Redis, critical_queues: Iterable[str] = ()) -> list[str]:
    critical = sorted(critical_queues)
    warnings: list[str] = []
    memory: dict[str, Any] = client.info("memory")
    policy = memory.get("maxmemory_policy", "unknown")
    if policy != "noeviction":
        warnings.append(f"Redis maxmemory-policy is {policy!r}: under memory pressure Redis "
                        "may evict queued jobs; set maxmemory-policy noeviction")
    if critical:
        persistence: dict[str, Any] = client.info("persistence")
        aof = bool(int(persistence.get("aof_enabled", 0)))
        try:
            save = client.config_get("save").get("save", "")
        except redis.ResponseError:
            save = "unknown (CONFIG disabled)"
        if not aof and save in ("", b""):
            warnings.append(f"queues {', '.join(critical)} are marked critical but Redis has "
                            "no persistence (appendonly no, no RDB save): a restart loses them; "
                            "use appendonly yes (see redis.conf)")
    return warnings


class RedisSetupCheck(Middleware):
    """Logs ``redis_warnings`` once when a worker boots; never stops the worker."""

    def __init__(self, critical_queues: Iterable[str] = ()) -> None:
        self.critical_queues = tuple(critical_queues)
        self.warnings: list[str] = []

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        try:
            self.warnings = redis_warnings(broker.client, self.critical_queues)  # type: ignore[attr-defined]
        except redis.RedisError as exc:
            log.warning("could not check the Redis setup: %s", exc)
            return
        for text in self.warnings:
            log.warning("REDIS SETUP: %s", text)
