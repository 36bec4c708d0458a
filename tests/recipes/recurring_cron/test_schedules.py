"""recurring_cron: schedules changed at run time live in Redis; bad definitions are refused."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
import redis
from pydantic import ValidationError

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.recurring_cron import QUEUE, keys
from recipes.recurring_cron.actors import register
from recipes.recurring_cron.models import Interval, Schedule
from recipes.recurring_cron.scheduler import CronScheduler
from recipes.recurring_cron.store import ScheduleStore
from tests.support import wait_until


def test_add_pause_resume_remove_at_run_time_and_survive_a_replica_restart(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, start_worker,
    scheduler_proc,
) -> None:  # type: ignore[no-untyped-def]
    actors = register(broker, redis_client, settings.namespace)
    store = actors.store
    proc = scheduler_proc()
    proc.wait_ready()
    start_worker(queues=[QUEUE], threads=4)

    def applied(p: Any) -> dict[str, Any]:
        """Wait until replica ``p`` has applied the latest change; its heartbeat after that."""
        version = store.version()
        return wait_until(lambda: (e := p.entry()) and e["version"] >= version and e,
                          timeout=30, message="replica applied the change")

    def fires() -> list[int]:
        return sorted(t.fire_ms for t in actors.runs("dyn"))

    store.put(Schedule(id="dyn", trigger=Interval(every_s=0.5)))  # added while running
    wait_until(lambda: len(fires()) >= 3, timeout=30, message="3 ticks")
    store.pause("dyn")
    paused_at = applied(proc)["seen_ms"]
    # Down while paused: the definition lives in Redis, not in the replica.
    proc.kill()
    wait_until(lambda: time.time() * 1000 > paused_at + 2_000, timeout=10)  # 4 intervals
    proc = scheduler_proc()
    proc.wait_ready()
    broker.join(QUEUE, timeout=30_000)
    assert not [f for f in fires() if f > paused_at], "a paused schedule ticked"
    before_resume = len(fires())

    store.resume("dyn")
    wait_until(lambda: len(fires()) >= before_resume + 3, timeout=30, message="resumed")
    resumed = [t for t in actors.runs("dyn") if t.fire_ms > paused_at]
    assert all(t.missed_before == 0 for t in resumed), "a pause is not a misfire"

    store.remove("dyn")
    removed_at = applied(proc)["seen_ms"]
    wait_until(lambda: time.time() * 1000 > removed_at + 1_500, timeout=10)  # 3 intervals
    broker.join(QUEUE, timeout=30_000)
    assert not [f for f in fires() if f > removed_at], "a removed schedule ticked"
    assert store.get("dyn") is None
    assert len(fires()) == len(set(fires()))


@pytest.mark.parametrize(("data", "field"), [
    ({"id": "has space", "trigger": {"kind": "interval", "every_s": 1}}, "id"),
    ({"id": "a", "trigger": {"kind": "interval", "every_s": 0.01}}, "every_s"),
    ({"id": "a", "trigger": {"kind": "interval", "every_s": 1.0005}}, "every_s"),
    ({"id": "a", "trigger": {"kind": "cron", "crontab": "61 * * * *"}}, "crontab"),
    ({"id": "a", "trigger": {"kind": "cron", "crontab": "* * * * *", "timezone": "Mars/Base"}},
     "timezone"),
    ({"id": "a", "trigger": {"kind": "weekly"}}, "trigger"),
    ({"id": "a", "trigger": {"kind": "interval", "every_s": 1}, "misfire_grace_s": 0},
     "misfire_grace_s"),
])
def test_invalid_schedule_is_refused_naming_the_field_and_nothing_is_stored(
    settings: Settings, redis_client: redis.Redis, data: dict[str, Any], field: str
) -> None:
    store = ScheduleStore(redis_client, settings.namespace)
    with pytest.raises(ValidationError, match=field):
        store.put(Schedule.model_validate(data))
    with pytest.raises(ValidationError, match=field):
        store.put(Schedule.model_construct(**data))  # skipped validation: the store re-checks
    assert store.load() == ({}, {}) and store.version() == 0


def test_a_corrupt_stored_schedule_is_logged_and_skipped_while_the_others_tick(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, start_worker,
    caplog: pytest.LogCaptureFixture,
) -> None:  # type: ignore[no-untyped-def]
    actors = register(broker, redis_client, settings.namespace)
    start_worker(queues=[QUEUE], threads=4)
    schedules = keys(settings.namespace)["schedules"]
    redis_client.hset(schedules, "junk", b"\x80not json")
    redis_client.hset(schedules, "old", '{"id": "old", "trigger": {"kind": "weekly"}}')
    actors.store.put(Schedule(id="good", trigger=Interval(every_s=0.2)))
    replica = CronScheduler(broker, redis_client, settings.namespace, control_interval_s=0.1)
    with caplog.at_level(logging.ERROR, logger="recipes.recurring_cron.scheduler"):
        replica.start()
        try:
            wait_until(lambda: len(actors.runs("good")) >= 3, timeout=30, message="good ticks")
        finally:
            replica.stop()
    logged = caplog.text
    assert "'junk' ignored" in logged and "'old' ignored" in logged and "trigger" in logged
    assert actors.runs("junk") == actors.runs("old") == []
