"""Singleton actors: at most one job per key runs at a time; duplicates follow a policy.

    guard = Singleton(locks, policy="defer", key=lambda job: job.key)

    @typed_actor(broker=broker, queue_name=QUEUE)
    @guard
    def nightly_report(job: ReportJob) -> None:
        lease = current_lease()   # lease.fence goes with every write to the resource

Policies, for a job that finds its key held:
* ``skip``: drop it (acked, counted as ``skipped``): the running job covers it.
* ``defer``: wait up to ``wait_ms`` for the key, then raise ``LockBusy`` (a ``RetryLater``):
  re-scheduled without spending an attempt, until it gets its turn.
* ``keep-latest``: at most one running and one pending, the newest payload wins. Each
  message carries a version (``guard.send`` takes it from an ``INCR`` at send time); a
  message older than the newest one that already reached a worker is dropped as
  ``superseded``; the newest waits like ``defer``.

A redelivered copy of the *running* message (crash recovery, or a duplicated delayed
message) is never skipped: it waits for the lease to end, then runs again.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import dramatiq
from dramatiq.middleware import CurrentMessage
from pydantic import BaseModel

from common.jobs import TypedActor
from recipes.singleton_lock import POLICIES, WAIT_MS
from recipes.singleton_lock.lease import LockBusy, Locks

Policy = Literal["skip", "defer", "keep-latest"]
M = TypeVar("M", bound=BaseModel)
VERSION_OPTION = "singleton_version"

# KEYS: seen. ARGV: version. 1 = still the newest, 0 = superseded.
_OBSERVE = """
local seen = tonumber(redis.call('get', KEYS[1]) or '0')
local v = tonumber(ARGV[1])
if v < seen then return 0 end
if v > seen then redis.call('set', KEYS[1], v) end
return 1
"""


class Singleton:
    def __init__(self, locks: Locks, *, policy: Policy, key: Callable[[Any], str],
                 ttl_ms: int | None = None, wait_ms: int = WAIT_MS, renew: bool = True) -> None:
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(POLICIES)}, not {policy!r}")
        self.locks = locks
        self.policy = policy
        self.key = key
        self.ttl_ms = ttl_ms
        self.wait_ms = 0 if policy == "skip" else wait_ms
        self.renew = renew
        self._observe = locks.client.register_script(_OBSERVE)

    def count(self, key: str, outcome: str) -> None:
        self.locks.client.hincrby(self.locks.keys(key)["stats"], outcome, 1)

    def stats(self, key: str) -> dict[str, int]:
        raw: dict[bytes, bytes] = self.locks.client.hgetall(self.locks.keys(key)["stats"])  # type: ignore[assignment]
        return {k.decode(): int(v) for k, v in raw.items()}

    def send(self, actor: TypedActor[M, Any], job: M, **options: Any) -> dramatiq.Message[Any]:
        """Send ``job``; for ``keep-latest`` stamp it with the key's next version first."""
        if self.policy == "keep-latest":
            version = self.locks.client.incr(self.locks.keys(self.key(job))["version"])
            options[VERSION_OPTION] = int(version)
        return actor.send_with_options(job, **options)

    def _superseded(self, key: str, message: Any) -> bool:
        options = message.options if message is not None else {}
        if VERSION_OPTION not in options:
            # Sent without guard.send: take a version on first arrival; it stays in the
            # message's options across deferrals.
            version = self.locks.client.incr(self.locks.keys(key)["version"])
            options[VERSION_OPTION] = int(version)
        seen = self.locks.keys(key)["seen"]
        return not self._observe(keys=[seen], args=[options[VERSION_OPTION]])

    def __call__(self, fn: Callable[[M], Any]) -> Callable[[M], None]:
        @functools.wraps(fn)
        def guarded(job: M) -> None:
            key = self.key(job)
            message = CurrentMessage.get_current_message()
            message_id = message.message_id if message is not None else "direct"
            if self.policy == "keep-latest" and self._superseded(key, message):
                self.count(key, "superseded")
                return
            token = f"{message_id}:{uuid.uuid4().hex}"
            try:
                lease = self.locks.acquire(key, ttl_ms=self.ttl_ms, wait_ms=self.wait_ms,
                                           renew=self.renew, token=token)
            except LockBusy as busy:
                itself = (busy.holder or b"").startswith(f"{message_id}:".encode())
                if self.policy == "skip" and not itself:
                    self.count(key, "skipped")
                    return
                self.count(key, "deferred")
                raise
            with lease:
                # A newer version may have arrived while this one waited for the key.
                if self.policy == "keep-latest" and self._superseded(key, message):
                    self.count(key, "superseded")
                    return
                self.count(key, "ran")
                fn(job)

        return guarded
