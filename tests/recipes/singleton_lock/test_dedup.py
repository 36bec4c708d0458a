"""Enqueue-time deduplication: unique while queued, throttle and debounce, each with a TTL."""

from __future__ import annotations

from collections.abc import Callable

import dramatiq
import pytest
import redis

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.singleton_lock import QUEUE
from recipes.singleton_lock.actors import SingletonActors, register
from recipes.singleton_lock.enqueue import send_deduplicated
from recipes.singleton_lock.models import ReportJob
from tests.support import wait_until

StartWorker = Callable[..., dramatiq.Worker]


def _send(actors: SingletonActors, n: int, mode: str, ttl_ms: int) -> bool:
    job = ReportJob(key="k", job_id=f"send-{n}", value=str(n))
    return send_deduplicated(actors, job, dedup_id="refresh", mode=mode,  # type: ignore[arg-type]
                             ttl_ms=ttl_ms) is not None


def test_queued_mode_is_unique_until_the_job_starts(
        broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
        start_worker: StartWorker) -> None:
    actors = register(broker, redis_client, settings.namespace)
    accepted = [_send(actors, n, "queued", 60_000) for n in range(5)]
    assert accepted == [True, False, False, False, False]
    assert redis_client.llen(f"{broker.namespace}:{QUEUE}") == 1
    start_worker(queues=[QUEUE], threads=2)
    wait_until(lambda: actors.runs.jobs() == ["send-0"], timeout=30, message="send-0 runs")
    # Started, so the key is free: the next send queues again (and runs).
    assert _send(actors, 5, "queued", 60_000)
    wait_until(lambda: actors.runs.jobs() == ["send-0", "send-5"], timeout=30,
               message="send-5 runs")


def test_queued_key_expires_after_its_ttl_even_if_the_job_never_starts(
        broker: CookbookBroker, settings: Settings, redis_client: redis.Redis) -> None:
    actors = register(broker, redis_client, settings.namespace)
    assert _send(actors, 0, "queued", 300)
    assert not _send(actors, 1, "queued", 300)
    wait_until(lambda: not redis_client.exists(actors.dedup.key("refresh")), timeout=10,
               message="the dedup key to expire")
    assert _send(actors, 2, "queued", 300)  # no worker ran: only the TTL freed it
    assert redis_client.llen(f"{broker.namespace}:{QUEUE}") == 2


def test_throttle_admits_one_job_per_window(
        broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
        start_worker: StartWorker) -> None:
    actors = register(broker, redis_client, settings.namespace)
    start_worker(queues=[QUEUE], threads=2)
    assert _send(actors, 0, "throttle", 60_000)
    wait_until(lambda: actors.runs.jobs() == ["send-0"], timeout=30, message="send-0 runs")
    # Unlike "queued", the job having run does not reopen a throttle window.
    assert not _send(actors, 1, "throttle", 60_000)
    # A short window: once it has passed, the next send is admitted.
    short = ReportJob(key="k", job_id="short-0")
    assert send_deduplicated(actors, short, dedup_id="short", mode="throttle", ttl_ms=1_000)
    assert not send_deduplicated(actors, short.model_copy(update={"job_id": "short-1"}),
                                 dedup_id="short", mode="throttle", ttl_ms=1_000)
    wait_until(lambda: not redis_client.exists(actors.dedup.key("short")), timeout=10,
               message="the short throttle window to end")
    assert send_deduplicated(actors, short.model_copy(update={"job_id": "short-2"}),
                             dedup_id="short", mode="throttle", ttl_ms=1_000)
    wait_until(lambda: len(actors.runs.jobs()) == 3, timeout=30, message="three runs")
    broker.join(QUEUE, timeout=30_000)
    assert sorted(actors.runs.jobs()) == ["send-0", "short-0", "short-2"]


def test_debounce_runs_only_the_last_send_of_a_burst(
        broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
        start_worker: StartWorker) -> None:
    actors = register(broker, redis_client, settings.namespace)
    start_worker(queues=[QUEUE], threads=4)
    # Every send is enqueued (delayed) and replaces the previous one.
    assert all(_send(actors, n, "debounce", 500) for n in range(6))
    wait_until(lambda: actors.runs.jobs() == ["send-5"], timeout=30,
               message=lambda: f"only send-5 runs (ran {actors.runs.jobs()})")
    broker.join(QUEUE, timeout=30_000)  # counts delayed and in-flight messages too
    assert actors.runs.jobs() == ["send-5"]
    assert actors.runs.all()[0]["value"] == "5"  # newest payload
    assert not redis_client.exists(actors.dedup.key("refresh"))  # the winner freed the key


def test_dedup_rejects_bad_options(broker: CookbookBroker, settings: Settings,
                                   redis_client: redis.Redis) -> None:
    actors = register(broker, redis_client, settings.namespace)
    with pytest.raises(ValueError, match="dedup mode must be one of"):
        _send(actors, 0, "sometimes", 1_000)
    with pytest.raises(ValueError, match="ttl_ms must be positive"):
        _send(actors, 0, "throttle", 0)
    assert redis_client.llen(f"{broker.namespace}:{QUEUE}") == 0
