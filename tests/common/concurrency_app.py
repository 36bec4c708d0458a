"""Actors for the concurrency-limit tests: ``dramatiq tests.common.concurrency_app:boot``.

The "resource" records who is inside it in Redis: one Lua call on entry keeps the count
and its peak, and entry/exit times (Redis clock, microseconds) are kept per run.
Worker settings come from ``CONC_LIMIT``, ``CONC_LEASE_MS`` and ``CONC_RETRY_MS``.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass

import dramatiq
import redis

from common.broker import make_broker
from common.concurrency import ConcurrencyLimit, current_slot, limit_concurrency
from common.settings import get_settings

QUEUE, HOLD_QUEUE, RESOURCE = "conc", "conc-hold", "db"
HANG_S = 240  # far beyond any wait in the tests: only a safety net

_ENTER_LUA = """
redis.call('SADD', KEYS[1], ARGV[1])
local n = redis.call('SCARD', KEYS[1])
if n > tonumber(redis.call('GET', KEYS[2]) or '0') then redis.call('SET', KEYS[2], n) end
local t = redis.call('TIME')
redis.call('HSET', KEYS[3], ARGV[1], t[1] .. string.format('%06d', t[2]))
return n
"""
_EXIT_LUA = """
redis.call('SREM', KEYS[1], ARGV[1])
local t = redis.call('TIME')
redis.call('HSET', KEYS[2], ARGV[1], t[1] .. string.format('%06d', t[2]))
redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
return 1
"""


class Resource:
    """The scarce thing: counts who is inside, the peak, and each run's entry and exit."""

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.client = client
        k = f"{namespace}:test-resource"
        self.inside, self.peak_key, self.calls = f"{k}:inside", f"{k}:peak", f"{k}:calls"
        self.entered, self.exited, self.done = f"{k}:entered", f"{k}:exited", f"{k}:done"
        self.gate, self.tokens = f"{k}:gate", f"{k}:tokens"
        self._enter = client.register_script(_ENTER_LUA)
        self._exit = client.register_script(_EXIT_LUA)

    def enter(self, run: str) -> int:
        return int(self._enter(keys=[self.inside, self.peak_key, self.entered], args=[run]))

    def exit(self, run: str, job_id: str) -> None:
        self._exit(keys=[self.inside, self.exited, self.done], args=[run, job_id])

    def peak(self) -> int:
        return int(self.client.get(self.peak_key) or 0)

    def ints(self, key: str) -> dict[str, int]:
        """A hash of ``entered``/``exited`` times (us) or ``calls``/``done`` counts."""
        raw: dict[bytes, bytes] = self.client.hgetall(key)  # type: ignore[assignment]
        return {k.decode(): int(v) for k, v in raw.items()}


@dataclass(frozen=True)
class App:
    use: dramatiq.Actor[..., None]
    hold: dramatiq.Actor[..., None]
    resource: Resource
    limiter: ConcurrencyLimit


def register(broker: dramatiq.Broker, client: redis.Redis, namespace: str, *, limit: int,
             lease_ms: int, retry_ms: int = 100) -> App:
    resource = Resource(client, namespace)
    guard = limit_concurrency(RESOURCE, limit, client=client, namespace=namespace,
                              lease_ms=lease_ms, retry_ms=retry_ms)

    @guard
    def body(job_id: str, ms: int) -> None:
        run = f"{job_id}:{uuid.uuid4().hex[:8]}"
        slot = current_slot()
        assert slot is not None, "body runs without a concurrency slot"
        client.hset(resource.tokens, run, slot.token)
        resource.enter(run)
        if ms >= 0:
            time.sleep(ms / 1000)
        else:  # hang while the test keeps this job id in the gate set (bounded)
            deadline = time.monotonic() + HANG_S
            while client.sismember(resource.gate, job_id) and time.monotonic() < deadline:
                time.sleep(0.02)
        resource.exit(run, job_id)

    def attempt(job_id: str, ms: int) -> None:
        client.hincrby(resource.calls, job_id, 1)  # every delivery, deferred ones too
        body(job_id, ms)

    def use_resource(job_id: str, ms: int) -> None:
        attempt(job_id, ms)

    def hold_resource(job_id: str, ms: int) -> None:
        attempt(job_id, ms)

    use = dramatiq.actor(broker=broker, queue_name=QUEUE, max_retries=0)(use_resource)
    hold = dramatiq.actor(broker=broker, queue_name=HOLD_QUEUE, max_retries=0)(hold_resource)
    return App(use, hold, resource, body.limiter)  # type: ignore[attr-defined]


def boot() -> None:
    """CLI entry point: each worker process builds its broker from the environment."""
    settings = get_settings()
    broker = make_broker(settings)
    dramatiq.set_broker(broker)
    register(broker, broker.client, settings.namespace, limit=int(os.environ["CONC_LIMIT"]),
             lease_ms=int(os.environ["CONC_LEASE_MS"]),
             retry_ms=int(os.environ.get("CONC_RETRY_MS", "100")))
