"""priority_queue: FIFO per level, per-level tuning applied, bad input refused or dead-lettered."""

from __future__ import annotations

import pytest
import redis
from pydantic import ValidationError

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.priority_queue import PRIORITY_STEP, queue_name
from recipes.priority_queue.actors import register
from recipes.priority_queue.bell import BellConsumer
from recipes.priority_queue.config import LevelConfigError, PriorityConfig
from recipes.priority_queue.enqueue import send_report
from recipes.priority_queue.events import started
from recipes.priority_queue.leveled import UnknownLevel
from recipes.priority_queue.models import Report
from recipes.priority_queue.reserve import ReservingWorkQueue
from tests.support import wait_until

LEVELS = ("high", "normal", "low")


def test_each_level_starts_in_send_order(broker: CookbookBroker, settings: Settings,
                                         redis_client: redis.Redis, start_worker) -> None:  # type: ignore[no-untyped-def]
    """Levels interleaved at send time; one thread, so start order is the only variable."""
    actors = register(broker, redis_client, settings.namespace)
    sent: dict[str, list[str]] = {level: [] for level in LEVELS}
    for i in range(40):
        for level in LEVELS:
            report = Report(report_id=f"{level}-{i}", customer="c", work_ms=1)
            sent[level].append(send_report(actors, report, level))
    start_worker(threads=1)
    wait_until(lambda: sum(actors.events.starts(lv) for lv in LEVELS) == 120, timeout=60,
               message="all 120 reports started")
    events = actors.events.events()
    for level in LEVELS:
        assert [e.id for e in started(events, level)] == sent[level], level
    assert broker.dead_letters.count() == 0


def test_one_job_type_has_one_actor_per_level_ordered_by_level(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis
) -> None:
    actors = register(broker, redis_client, settings.namespace)
    for index, level in enumerate(LEVELS):
        actor = actors.render.actor(level).actor
        assert (actor.actor_name, actor.queue_name, actor.priority) == (
            f"render_report_{level}", queue_name(level), index * PRIORITY_STEP)
    message = send_report(actors, Report(report_id="r1", customer="c"))
    assert actors.render.default_level == "normal"
    assert redis_client.llen(f"{settings.namespace}:{queue_name('normal')}") == 1
    assert message


def test_urgent_consumers_wait_on_the_doorbell_and_threads_are_reserved(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, start_worker
) -> None:  # type: ignore[no-untyped-def]
    register(broker, redis_client, settings.namespace,
             config=PriorityConfig(reserved_threads=3, urgent_idle_ms=300))
    worker = start_worker(threads=8, worker_timeout_ms=1_000)
    wait_until(lambda: all(q in worker.consumers and worker.consumers[q].consumer is not None
                           for q in map(queue_name, LEVELS)), message="consumers running")
    consumers = {q: c.consumer for q, c in worker.consumers.items()}
    for level in ("high", "normal"):
        consumer = consumers[queue_name(level)]
        assert isinstance(consumer, BellConsumer)
        assert (consumer.prefetch, consumer.idle_s) == (16, 0.3)
    # The lowest level and the delay queues keep Dramatiq's own consumer and timeout.
    for queue in (queue_name("low"), queue_name("high") + ".DQ"):
        assert not isinstance(consumers[queue], BellConsumer)
        assert consumers[queue].timeout == 1_000  # type: ignore[union-attr]
    assert isinstance(worker.work_queue, ReservingWorkQueue)
    assert worker.work_queue.limit == 5


def test_unknown_level_and_invalid_report_are_refused_before_enqueue(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis
) -> None:
    actors = register(broker, redis_client, settings.namespace)
    with pytest.raises(UnknownLevel, match=r"'urgent'.*high, normal, low"):
        send_report(actors, Report(report_id="r1", customer="c"), "urgent")
    with pytest.raises(ValidationError, match="work_ms"):
        send_report(actors, Report.model_construct(report_id="r2", customer="c", work_ms=-5),
                    "high")
    assert all(redis_client.llen(f"{settings.namespace}:{queue_name(lv)}") == 0
               for lv in LEVELS)


def test_bad_configuration_names_the_setting(broker: CookbookBroker, settings: Settings,
                                             redis_client: redis.Redis, start_worker) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="distinct"):
        PriorityConfig(levels=("high", "high"))
    with pytest.raises(ValidationError, match="lowercase identifier"):
        PriorityConfig(levels=("high", "Low-1"))
    register(broker, redis_client, settings.namespace, config=PriorityConfig(reserved_threads=4))
    with pytest.raises(LevelConfigError, match="COOKBOOK_PRIORITY_RESERVED_THREADS=4"):
        start_worker(threads=4)


def test_garbage_on_an_urgent_queue_is_dead_lettered_and_the_level_keeps_serving(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, start_worker
) -> None:  # type: ignore[no-untyped-def]
    actors = register(broker, redis_client, settings.namespace)
    high = f"{settings.namespace}:{queue_name('high')}"
    redis_client.hset(high + ".msgs", "junk-1", b"\xff not json")
    redis_client.rpush(high, "junk-1")
    start_worker(threads=2)
    wait_until(lambda: broker.dead_letters.count() == 1, timeout=20, message="garbage parked")
    assert broker.dead_letters.recent()[0].queue == queue_name("high")
    send_report(actors, Report(report_id="after", customer="c"), "high")
    wait_until(lambda: actors.events.starts("high") == 1, timeout=20,
               message="high level still served")
