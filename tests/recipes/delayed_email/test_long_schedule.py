"""Long schedules live in Redis, not in worker memory; promotion is atomic under contention."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import dramatiq
import redis
from dramatiq.common import dq_name

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.delayed_email import QUEUE
from recipes.delayed_email.actors import register
from recipes.delayed_email.enqueue import sample_emails
from recipes.delayed_email.schedule import now_ms
from recipes.delayed_email.smtp_server import RecordingSmtp
from tests.recipes.delayed_email.conftest import email_config
from tests.support import wait_until

DAYS = 3 * 86_400_000


def test_ten_thousand_emails_days_ahead_sit_in_redis_not_in_the_worker(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
    start_worker: Callable[..., dramatiq.Worker], smtp_server: Callable[..., RecordingSmtp],
) -> None:
    smtp = smtp_server()
    actors = register(broker, redis_client, settings.namespace, email_config(smtp.port))
    assert actors.schedule.schedule_many(sample_emails(10_000), delay_ms=DAYS) == 10_000
    # Contrast: 50 emails on Dramatiq's own delay queue, one hour ahead.
    for email in sample_emails(50, prefix="dq-"):
        actors.schedule.schedule(email, delay_ms=3_600_000, via="delay")
    worker = start_worker(queues=[QUEUE], threads=8)
    held = worker.consumers[dq_name(QUEUE)].delay_queue  # the worker's in-memory delay queue

    wait_until(lambda: held.qsize() == 50 and actors.promoter.ticks >= 10, timeout=20,
               message=lambda: f"worker running (holds {held.qsize()}, "
                               f"{actors.promoter.ticks} promoter ticks)")
    counts = actors.schedule.counts()
    assert counts["schedule"] == counts["outbox"] == 10_000, counts
    assert counts["records"] == 10_050
    # Every Dramatiq-side message is one of the 50 contrast emails: none of the 10,000.
    assert counts["delay_queue_msgs"] == 50 and counts["queue"] == 0, counts
    in_memory = {item.message.args[0]["email_id"] for item in list(held.queue)}
    assert in_memory == {f"dq-{i}" for i in range(50)}
    assert actors.promoter.promoted == 0 and smtp.received() == []


def test_concurrent_promoters_move_each_due_email_exactly_once(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
) -> None:
    actors = register(broker, redis_client, settings.namespace, email_config(1))
    due = 2_000
    assert actors.schedule.schedule_many(sample_emails(due), delay_ms=0, via="schedule") == due
    actors.schedule.schedule_many(sample_emails(500, prefix="later-"), delay_ms=DAYS)
    moved: list[int] = []
    start = threading.Barrier(6)

    def promoter() -> None:
        start.wait()
        while n := actors.schedule.promote(limit=37):  # small passes: many interleavings
            moved.append(n)

    threads = [threading.Thread(target=promoter) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(moved) == due
    queue = f"{settings.namespace}:{QUEUE}"
    ids: list[bytes] = redis_client.lrange(queue, 0, -1)  # type: ignore[assignment]
    messages = [json.loads(m or b"null") for m in redis_client.hmget(queue + ".msgs", ids)]
    emails = [m["args"][0]["email_id"] for m in messages]
    assert len(ids) == len(set(ids)) == due and sorted(emails) == sorted(f"mail-{i}"
                                                                          for i in range(due))
    assert actors.schedule.counts()["schedule"] == 500  # not due: untouched
    assert actors.schedule.promote(now=now_ms() + DAYS + 60_000) == 500
