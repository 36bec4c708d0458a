"""recurring_cron with real scheduler subprocesses: once per tick, SIGKILL, downtime misfire."""

from __future__ import annotations

import itertools
import time

import redis

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.recurring_cron import QUEUE, keys, tick_id
from recipes.recurring_cron.actors import CronActors, register
from recipes.recurring_cron.claims import TickLedger
from recipes.recurring_cron.models import Interval, Schedule, Tick
from tests.support import wait_until

SECOND = 1_000


def by_fire_time(actors: CronActors, sid: str) -> list[Tick]:
    return sorted(actors.runs(sid), key=lambda t: t.fire_ms)


def assert_once_each_and_contiguous(ticks: list[Tick], every_ms: int) -> None:
    ids = [t.tick_id for t in ticks]
    assert len(ids) == len(set(ids)), f"a tick was enqueued twice: {ids}"
    gaps = [b.fire_ms - a.fire_ms for a, b in itertools.pairwise(ticks)]
    assert all(g == every_ms for g in gaps), f"missing ticks (gaps in ms): {gaps}"


def drain(broker: CookbookBroker, redis_client: redis.Redis, settings: Settings) -> None:
    wait_until(lambda: redis_client.zcard(keys(settings.namespace)["pending"]) == 0,
               timeout=30, message="no claimed-but-unsent tick left")
    broker.join(QUEUE, timeout=30_000)


def test_three_replicas_enqueue_each_tick_once_and_survive_a_sigkill(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, start_worker,
    scheduler_proc,
) -> None:  # type: ignore[no-untyped-def]
    actors = register(broker, redis_client, settings.namespace)
    ledger = TickLedger(redis_client, settings.namespace)
    replicas = [scheduler_proc() for _ in range(3)]
    for proc in replicas:
        proc.wait_ready()
    start_worker(queues=[QUEUE], threads=4)
    actors.store.put(Schedule(id="tick", trigger=Interval(every_s=1)))

    wait_until(lambda: len(actors.runs("tick")) >= 5, timeout=60, message="5 ticks")
    # Kill the replica that sent the newest tick: a claim winner dies without a goodbye.
    newest = by_fire_time(actors, "tick")[-1]
    sender = (ledger.state(newest.tick_id) or "").removeprefix("sent:")
    victim = next(p for p in replicas if p.replica_id == sender)
    victim.kill()
    killed_at_ms = int(time.time() * 1000)

    def after_kill() -> int:
        return sum(t.fire_ms > killed_at_ms for t in actors.runs("tick"))

    wait_until(lambda: after_kill() >= 6 and len(actors.runs("tick")) >= 11, timeout=60,
               message=lambda: f"ticks after the kill: {after_kill()}")
    for proc in replicas:
        proc.stop()
    drain(broker, redis_client, settings)

    ticks = by_fire_time(actors, "tick")
    assert len(ticks) >= 11  # 1 s interval over >= 10 s
    assert_once_each_and_contiguous(ticks, SECOND)  # no gap across the SIGKILL
    assert all(t.missed_before == 0 for t in ticks)
    assert actors.reports("tick") == len(ticks)
    assert broker.dead_letters.count() == 0


def test_scheduler_down_across_three_ticks_coalesces_them_into_one_catch_up_tick(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, start_worker,
    scheduler_proc,
) -> None:  # type: ignore[no-untyped-def]
    """Default policy: coalesce=True, grace 30 s: one run for the missed ticks, which says so."""
    actors = register(broker, redis_client, settings.namespace)
    first = scheduler_proc()
    first.wait_ready()
    start_worker(queues=[QUEUE], threads=4)
    schedule = actors.store.put(Schedule(id="down", trigger=Interval(every_s=1)))
    assert schedule.coalesce is True and schedule.misfire_grace_s == 30
    wait_until(lambda: len(actors.runs("down")) >= 2, timeout=60, message="2 ticks")
    first.kill()
    last_before = max(t.fire_ms for t in actors.runs("down"))
    # Down across at least 3 ticks (last_before + 1 s, + 2 s, + 3 s).
    wait_until(lambda: time.time() * 1000 > last_before + 3.5 * SECOND, timeout=10)
    assert max(t.fire_ms for t in actors.runs("down")) == last_before
    second = scheduler_proc()
    second.wait_ready()
    wait_until(lambda: sum(t.fire_ms > last_before for t in actors.runs("down")) >= 3,
               timeout=60, message="3 ticks after the restart")
    second.stop()
    drain(broker, redis_client, settings)

    ticks = by_fire_time(actors, "down")
    before = [t for t in ticks if t.fire_ms <= last_before]
    after = [t for t in ticks if t.fire_ms > last_before]
    assert_once_each_and_contiguous(before, SECOND)
    assert_once_each_and_contiguous(after, SECOND)
    catch_up = after[0]
    skipped = (catch_up.fire_ms - last_before) // SECOND - 1
    assert skipped >= 2, "the ticks due while down collapse into one run, not a burst"
    assert catch_up.missed_before == skipped, "the catch-up tick reports how many it stands for"
    assert all(t.missed_before == 0 for t in before + after[1:])
    assert actors.store.missed("down") == 0  # nothing was later than the 30 s grace
    assert catch_up.tick_id == tick_id("down", catch_up.fire_ms)
