"""Concurrency limits from resources: at most ``limit`` jobs use a resource at once across
every worker process and host, whatever their thread counts (BullMQ's global concurrency).

    @dramatiq.actor(broker=broker, queue_name="reports", max_retries=3)
    @limit_concurrency("reports-db", 5, client=broker.client, namespace=broker.namespace)
    def build_report(report_id: str) -> None: ...

How: ``{namespace}:concurrency:{resource}`` is a sorted set of holders (a random token per
running job) scored by lease expiry. Acquire, one Lua call, drops expired leases (crashed
holders) and adds the token if fewer than ``limit`` remain; renew, one Lua call, extends a
token only if it is still there; both use Redis ``TIME``, so host clocks do not matter. A
thread renews every ``lease_ms / 3`` while the job runs, so a job may outlive many leases;
a SIGKILLed holder stops renewing and the first acquire after its lease takes the slot back.
Release is a ZREM of the job's own token. No free slot: ``RetryLater`` with a short jittered
delay, so the message is re-scheduled without counting an attempt and the thread moves on.

Why not Dramatiq's ``ConcurrentRateLimiter``: a bare counter with no owner. Each successful
acquire or release refreshes its ttl, so a crashed holder's slot returns only after ``ttl``
(15 min by default) with no traffic; a section longer than ``ttl`` lets more than ``limit``
in; under Dramatiq's ``Retries`` its ``RateLimitExceeded`` counts as a failed attempt.

Limits: every user of a resource must pass the same ``limit``; waiters are not served in
order (``max_deferrals`` bounds the wait); Redis down at acquire is a transient error. If
renewal fails for a whole lease (Redis unreachable, process frozen) another job may take the
slot: ``Slot.lost`` is set (``current_slot()`` in the job) and an error logged.

Copy with: ``common/errors.py``.
"""

from __future__ import annotations

import functools
import logging
import math
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

import redis

from common.errors import RetryLater

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
DEFAULT_LEASE_MS = 30_000
DEFAULT_RETRY_MS = 500
_current: ContextVar[Slot | None] = ContextVar("concurrency_slot", default=None)

# Shared by acquire and renew: the Redis clock in ms, then the key lives as long as its
# longest lease (an abandoned resource leaves nothing behind).
_NOW = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"
_EXPIRE = """
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(last[2]) - now))
return 1
"""
ACQUIRE_LUA = _NOW + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
""" + _EXPIRE
# Still present means no acquire has run since it expired (acquire drops every expired
# lease first), so its slot was never handed out: extending it is safe.
RENEW_LUA = _NOW + """
if not redis.call('ZSCORE', KEYS[1], ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[2])
""" + _EXPIRE


class Slot:
    """One held slot; ``lost`` is set if renewal found the lease gone."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.lost = threading.Event()


def current_slot() -> Slot | None:
    """The slot held by the limited job running in this thread (check ``.lost`` in long jobs)."""
    return _current.get()


class ConcurrencyLimit:
    """A counting semaphore in Redis with owner tokens and leases (see the module docstring)."""

    def __init__(self, client: redis.Redis, namespace: str, resource: str, limit: int, *,
                 lease_ms: int = DEFAULT_LEASE_MS, retry_ms: int = DEFAULT_RETRY_MS) -> None:
        if not isinstance(resource, str) or not resource.strip():
            raise ValueError(f"resource must be a non-empty name, got {resource!r}")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit for resource {resource!r} must be an int >= 1, got {limit!r}")
        if lease_ms < 100 or retry_ms < 1:
            raise ValueError(f"lease_ms must be >= 100 and retry_ms >= 1 (resource {resource!r})")
        self.client, self.resource, self.limit = client, resource, limit
        self.lease_ms, self.retry_ms = int(lease_ms), int(retry_ms)
        self.key = f"{namespace}:concurrency:{resource}"
        self._acquire = client.register_script(ACQUIRE_LUA)
        self._renew = client.register_script(RENEW_LUA)

    def acquire(self) -> Slot | None:
        """Take a slot now, or None when ``limit`` holders have live leases."""
        token = uuid.uuid4().hex
        ok = self._acquire(keys=[self.key], args=[self.limit, self.lease_ms, token])
        return Slot(token) if ok else None

    def renew(self, slot: Slot) -> bool:
        """Extend the lease by ``lease_ms`` from now; False if the slot was lost."""
        return bool(self._renew(keys=[self.key], args=[self.lease_ms, slot.token]))

    def release(self, slot: Slot) -> bool:
        return bool(self.client.zrem(self.key, slot.token))

    def holders(self) -> int:
        """Tokens in the set, including expired leases not yet reclaimed."""
        return int(self.client.zcard(self.key))

    def _keep_renewing(self, slot: Slot, done: threading.Event) -> None:
        renewed = time.monotonic()
        while not done.wait(self.lease_ms / 3000):
            try:
                held = self.renew(slot)
                renewed = time.monotonic() if held else -math.inf
            except redis.RedisError as exc:  # keep trying: the lease may still be ours
                log.warning("renewing concurrency slot for %r failed: %s", self.resource, exc)
            if time.monotonic() - renewed > self.lease_ms / 1000 and not done.is_set():
                slot.lost.set()
                log.error("concurrency slot for %r lost: its lease ran out", self.resource)
                return

    @contextmanager
    def slot(self) -> Iterator[Slot]:
        """Hold a slot for the block (renewed in the background) or raise ``RetryLater``."""
        slot = self.acquire()
        if slot is None:
            delay = int(self.retry_ms * random.uniform(0.5, 1.5))  # jitter spreads the retries
            raise RetryLater(f"all {self.limit} slots of {self.resource!r} are in use",
                             delay_ms=delay)
        done = threading.Event()
        threading.Thread(target=self._keep_renewing, args=(slot, done), daemon=True,
                         name=f"concurrency-renew-{self.resource}").start()
        reset = _current.set(slot)
        try:
            yield slot
        finally:
            _current.reset(reset)
            done.set()
            self.release(slot)


def limit_concurrency(
    resource: str, limit: int, *, client: redis.Redis, namespace: str,
    lease_ms: int = DEFAULT_LEASE_MS, retry_ms: int = DEFAULT_RETRY_MS,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate an actor's function: each run holds one of ``limit`` slots of ``resource``."""
    limiter = ConcurrencyLimit(client, namespace, resource, limit, lease_ms=lease_ms,
                               retry_ms=retry_ms)

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            with limiter.slot():
                return fn(*args, **kwargs)

        guarded.limiter = limiter  # type: ignore[attr-defined]
        return guarded

    return decorate
