"""Duplicate policies of singleton actors: skip, defer (no attempt spent), keep-latest."""

from __future__ import annotations

from collections.abc import Callable

import dramatiq
import pytest
import redis
from pydantic import ValidationError

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.singleton_lock import QUEUE
from recipes.singleton_lock.actors import SingletonActors, register
from recipes.singleton_lock.enqueue import send_report
from recipes.singleton_lock.models import ReportJob
from recipes.singleton_lock.resource import verify_exclusive
from recipes.singleton_lock.singleton import Policy, Singleton
from tests.support import wait_until

StartWorker = Callable[..., dramatiq.Worker]


def _hold_key(actors: SingletonActors, policy: Policy, key: str = "k") -> None:
    """Start a job that holds ``key`` until its gate ``hold`` opens."""
    send_report(actors, ReportJob(key=key, job_id="first", value="first", gate="hold"),
                policy=policy)
    wait_until(lambda: actors.store.counts().get("enters") == 1, timeout=30,
               message="the first job to hold the key")


def _stats(actors: SingletonActors, policy: Policy) -> dict[str, int]:
    return actors.guards[policy].stats("k")


def test_skip_drops_duplicates_while_the_key_is_held(
        broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
        start_worker: StartWorker) -> None:
    actors = register(broker, redis_client, settings.namespace)
    start_worker(queues=[QUEUE], threads=4)
    _hold_key(actors, "skip")
    for n in range(3):
        send_report(actors, ReportJob(key="k", job_id=f"dup-{n}"), policy="skip")
    wait_until(lambda: _stats(actors, "skip").get("skipped") == 3, timeout=30,
               message=lambda: f"3 duplicates skipped ({_stats(actors, 'skip')})")
    actors.store.open_gate("hold")
    wait_until(lambda: actors.runs.jobs() == ["first"], timeout=30, message="first to finish")
    broker.join(QUEUE, timeout=30_000)
    assert actors.runs.jobs() == ["first"]  # no duplicate ever ran
    assert _stats(actors, "skip") == {"ran": 1, "skipped": 3}
    verify_exclusive(actors.store.events())


def test_defer_reschedules_without_spending_an_attempt(
        broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
        start_worker: StartWorker) -> None:
    actors = register(broker, redis_client, settings.namespace, wait_ms=50)
    start_worker(queues=[QUEUE], threads=4)
    _hold_key(actors, "defer")
    send_report(actors, ReportJob(key="k", job_id="second", value="second"), policy="defer")
    # The actor allows 3 retries: 5 deferrals would have dead-lettered it if they counted.
    wait_until(lambda: _stats(actors, "defer").get("deferred", 0) >= 5, timeout=60,
               message=lambda: f"5 deferrals ({_stats(actors, 'defer')})")
    actors.store.open_gate("hold")
    wait_until(lambda: actors.runs.jobs() == ["first", "second"], timeout=30,
               message=lambda: f"both jobs to run (ran {actors.runs.jobs()})")
    second = actors.runs.all()[1]
    assert second["retries"] == 0 and second["deferrals"] >= 5, second
    assert broker.dead_letters.count() == 0
    assert verify_exclusive(actors.store.events()) == 2
    assert actors.store.value()["value"] == "second"  # type: ignore[index]


def test_keep_latest_runs_the_newest_pending_payload_only(
        broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
        start_worker: StartWorker) -> None:
    actors = register(broker, redis_client, settings.namespace, wait_ms=50)
    start_worker(queues=[QUEUE], threads=4)
    _hold_key(actors, "keep-latest")
    for name in ("b", "c", "d"):
        send_report(actors, ReportJob(key="k", job_id=name, value=name), policy="keep-latest")
    # b and c are replaced by newer payloads; d waits as the one pending job.
    wait_until(lambda: _stats(actors, "keep-latest").get("superseded") == 2, timeout=30,
               message=lambda: f"b and c superseded ({_stats(actors, 'keep-latest')})")
    actors.store.open_gate("hold")
    wait_until(lambda: actors.runs.jobs() == ["first", "d"], timeout=30,
               message=lambda: f"first then d (ran {actors.runs.jobs()})")
    broker.join(QUEUE, timeout=30_000)
    assert actors.runs.jobs() == ["first", "d"]
    assert actors.store.value()["value"] == "d"  # type: ignore[index]
    assert verify_exclusive(actors.store.events()) == 2


def test_redelivered_copy_of_the_holder_is_not_skipped(
        broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
        start_worker: StartWorker) -> None:
    """A crashed holder's message comes back while its lock is still alive: under ``skip``
    it must wait for the lock, not be dropped as a duplicate of itself."""
    actors = register(broker, redis_client, settings.namespace, wait_ms=50)
    job = ReportJob(key="k", job_id="crashed", value="v")
    message = actors.by_policy["skip"].message(job)
    # The crashed run's lock, still alive for a while, owned under this message's id.
    actors.locks.acquire("k", ttl_ms=1_000, renew=False, token=f"{message.message_id}:dead")
    broker.enqueue(message)
    start_worker(queues=[QUEUE], threads=2)
    wait_until(lambda: actors.runs.jobs() == ["crashed"], timeout=30,
               message=lambda: f"the redelivered job to run ({_stats(actors, 'skip')})")
    assert _stats(actors, "skip").get("skipped", 0) == 0


def test_bad_input_is_refused_with_a_clear_error(
        broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
        start_worker: StartWorker) -> None:
    actors = register(broker, redis_client, settings.namespace)
    with pytest.raises(ValidationError, match="key"):
        send_report(actors, ReportJob.model_construct(key="bad key!", job_id="x"))
    with pytest.raises(ValueError, match="policy must be one of"):
        Singleton(actors.locks, policy="sometimes", key=str)  # type: ignore[arg-type]
    assert redis_client.llen(f"{broker.namespace}:{QUEUE}") == 0
    # A malformed payload that bypassed send() is dead-lettered; the worker goes on.
    broker.enqueue(actors.by_policy["defer"].actor.message({"key": "k"}))
    start_worker(queues=[QUEUE], threads=2)
    send_report(actors, ReportJob(key="k", job_id="fine"), policy="defer")
    wait_until(lambda: actors.runs.jobs() == ["fine"], timeout=30, message="the good job")
    wait_until(lambda: broker.dead_letters.count() == 1, timeout=30, message="dead letter")
    [letter] = broker.dead_letters.recent()
    assert "job_id" in (letter.error or "") and letter.error_type == "InvalidJobPayload"
