"""Singleton actors, one per duplicate policy, plus a deduplicated (lock-free) actor.

Run with: ``uv run dramatiq recipes.singleton_lock.worker -p 2 -t 8``
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import dramatiq
import redis

from common.jobs import TypedActor, typed_actor
from recipes.singleton_lock import LOCK_TTL_MS, QUEUE, WAIT_MS
from recipes.singleton_lock.dedup import Dedup
from recipes.singleton_lock.lease import Locks
from recipes.singleton_lock.models import ReportJob
from recipes.singleton_lock.resource import FencedStore
from recipes.singleton_lock.singleton import Policy, Singleton
from recipes.singleton_lock.work import RunLog, rebuild_report

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SingletonActors:
    by_policy: dict[Policy, TypedActor[ReportJob, None]]
    guards: dict[Policy, Singleton]
    deduplicated: TypedActor[ReportJob, None]
    locks: Locks
    store: FencedStore
    dedup: Dedup
    runs: RunLog


def register(broker: dramatiq.Broker, client: redis.Redis, namespace: str, *,
             ttl_ms: int = LOCK_TTL_MS, wait_ms: int = WAIT_MS,
             renew: bool = True) -> SingletonActors:
    locks = Locks(client, namespace, ttl_ms=ttl_ms)
    store = FencedStore(client, namespace)
    dedup = Dedup(client, namespace)
    runs = RunLog(client, namespace)
    guards: dict[Policy, Singleton] = {}
    by_policy: dict[Policy, TypedActor[ReportJob, None]] = {}
    policies: tuple[Policy, ...] = ("skip", "defer", "keep-latest")
    for policy in policies:
        guard = Singleton(locks, policy=policy, key=lambda job: job.key, wait_ms=wait_ms,
                          renew=renew)

        # Guard outside, dedup inside: a deferred job keeps its "queued" dedup key.
        @typed_actor(broker=broker, queue_name=QUEUE, actor_name=f"report_{policy}".replace(
            "-", "_"), max_retries=3, min_backoff=100, max_backoff=2_000)
        @guard
        @dedup.guard
        def report(job: ReportJob) -> None:
            rebuild_report(job, store, runs)

        guards[policy], by_policy[policy] = guard, report

    @typed_actor(broker=broker, queue_name=QUEUE, actor_name="report_deduplicated",
                 max_retries=3, min_backoff=100)
    @dedup.guard
    def deduplicated(job: ReportJob) -> None:
        """No lock: dedup alone decides which sends run (proved by the run log)."""
        runs.record(job)

    return SingletonActors(by_policy=by_policy, guards=guards, deduplicated=deduplicated,
                           locks=locks, store=store, dedup=dedup, runs=runs)
