"""recurring_cron in-process: misfire policy on hour-scale schedules, claims, abandoned ticks.

Schedules here tick every minute with an anchor in the past, so "which missed ticks run"
is decided by the policy alone, never by how fast the test machine is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import redis

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.recurring_cron import QUEUE, keys, tick_id
from recipes.recurring_cron.actors import CronActors, register
from recipes.recurring_cron.models import Interval, Schedule
from recipes.recurring_cron.scheduler import CronScheduler
from recipes.recurring_cron.triggers import build_trigger
from tests.support import wait_until

MINUTE = 60_000


@pytest.fixture
def actors(broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
           start_worker) -> CronActors:  # type: ignore[no-untyped-def]
    start_worker(queues=[QUEUE], threads=4)
    return register(broker, redis_client, settings.namespace)


@pytest.fixture
def replicas(broker: CookbookBroker, settings: Settings,
             redis_client: redis.Redis) -> Iterator[list[CronScheduler]]:
    started = [CronScheduler(broker, redis_client, settings.namespace, replica_id=f"r{i}",
                             lease_ms=300, control_interval_s=0.1) for i in range(3)]
    yield started
    for replica in started:
        replica.stop()


def minutely_since(now_ms: int, *, last_due_ago_s: int, missed: int, **policy: object) -> Schedule:
    """Ticks every minute; the newest due tick was ``last_due_ago_s`` ago and ``missed + 1``
    ticks have been due since ``since_ms`` (all of them missed: no scheduler was running)."""
    last_due = now_ms - last_due_ago_s * 1000
    anchor = last_due - (missed + 1) * MINUTE
    return Schedule(id="minutely", trigger=Interval(every_s=60, anchor_ms=anchor),
                    since_ms=anchor, **policy)  # type: ignore[arg-type]


def test_coalesce_runs_only_the_newest_missed_tick_and_counts_the_rest(
    actors: CronActors, replicas: list[CronScheduler]
) -> None:
    now = int(time.time() * 1000)
    schedule = actors.store.put(minutely_since(now, last_due_ago_s=10, missed=9))
    for replica in replicas:
        replica.start()
    wait_until(lambda: actors.runs("minutely"), timeout=30, message="the catch-up tick")
    wait_until(lambda: redis_client_pending(actors) == 0, timeout=10, message="confirmed")
    runs = actors.runs("minutely")
    assert len(runs) == 1, "3 replicas, 10 due ticks: one coalesced run"
    newest_due = now - 10_000
    assert runs[0].fire_ms == newest_due and runs[0].missed_before == 9
    assert actors.store.last_fire_ms("minutely") == newest_due
    assert actors.store.missed("minutely") == 0 and schedule.coalesce


def test_without_coalesce_every_missed_tick_within_grace_runs_once(
    actors: CronActors, replicas: list[CronScheduler]
) -> None:
    now = int(time.time() * 1000)
    actors.store.put(minutely_since(now, last_due_ago_s=10, missed=4, coalesce=False,
                                    misfire_grace_s=3600))
    for replica in replicas:
        replica.start()
    wait_until(lambda: len(actors.runs("minutely")) >= 5, timeout=30, message="5 ticks")
    wait_until(lambda: redis_client_pending(actors) == 0, timeout=10, message="confirmed")
    fires = sorted(t.fire_ms for t in actors.runs("minutely"))
    assert fires == [now - 10_000 - k * MINUTE for k in range(4, -1, -1)]
    assert all(t.missed_before == 0 for t in actors.runs("minutely"))


def test_a_tick_later_than_its_grace_is_dropped_and_counted_once(
    actors: CronActors, replicas: list[CronScheduler]
) -> None:
    now = int(time.time() * 1000)
    actors.store.put(minutely_since(now, last_due_ago_s=45, missed=2, misfire_grace_s=30))
    for replica in replicas:
        replica.start()
    newest_due = now - 45_000
    wait_until(lambda: actors.store.missed("minutely") >= 1, timeout=30, message="missed")
    # Every replica saw the late tick; the drop is counted once and nothing was sent.
    assert replicas[0].ledger.state(tick_id("minutely", newest_due)) == "missed"
    assert actors.store.missed("minutely") == 1
    assert actors.runs("minutely") == []


def test_concurrent_fires_of_one_tick_enqueue_it_once(
    actors: CronActors, replicas: list[CronScheduler]
) -> None:
    schedule = actors.store.put(Schedule(id="hourly", trigger=Interval(
        every_s=3600, anchor_ms=int(time.time() * 1000) + 3_600_000)))
    trigger = build_trigger(schedule)
    for replica in replicas:
        replica.sync()
    fire_ms = int(time.time() * 1000)
    won: list[bool] = []
    barrier = threading.Barrier(len(replicas))

    def fire(replica: CronScheduler) -> None:
        barrier.wait()
        won.append(replica.firer.send(schedule, trigger, fire_ms))

    threads = [threading.Thread(target=fire, args=(r,)) for r in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won) == [False, False, True]
    wait_until(lambda: actors.runs("hourly"), timeout=10, message="delivered")
    assert [t.fire_ms for t in actors.runs("hourly")] == [fire_ms]


def test_a_tick_claimed_by_a_replica_that_died_is_re_fired_once(
    actors: CronActors, replicas: list[CronScheduler]
) -> None:
    schedule = actors.store.put(Schedule(id="hourly", trigger=Interval(
        every_s=3600, anchor_ms=int(time.time() * 1000) + 3_600_000), misfire_grace_s=60))
    orphan_ms = int(time.time() * 1000) - 2_000
    stale_ms = orphan_ms - 120_000  # older than the 60 s grace
    dead = replicas[0].ledger  # claims made as "dead-replica", which never sends them
    assert dead.claim(schedule.id, tick_id("hourly", orphan_ms), "dead-replica") is not None
    assert dead.claim(schedule.id, tick_id("hourly", stale_ms), "dead-replica") is not None
    for replica in replicas[1:]:
        replica.start()
    wait_until(lambda: actors.runs("hourly"), timeout=30, message="re-fired tick")
    wait_until(lambda: redis_client_pending(actors) == 0, timeout=10, message="swept")
    assert [t.fire_ms for t in actors.runs("hourly")] == [orphan_ms]
    assert (dead.state(tick_id("hourly", orphan_ms)) or "").startswith("sent:r")
    assert actors.store.missed("hourly") == 1  # the stale one, dropped as too late


def redis_client_pending(actors: CronActors) -> int:
    return int(actors.client.zcard(keys(actors.namespace)["pending"]))
