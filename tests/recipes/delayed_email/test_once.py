"""Once per email id: duplicates, racing copies, cancel after promotion, schedule outcomes."""

from __future__ import annotations

import pytest
import redis

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.delayed_email import QUEUE
from recipes.delayed_email.actors import register
from recipes.delayed_email.enqueue import cancel, reschedule, sample_email, send_later
from recipes.delayed_email.models import SendEmail
from recipes.delayed_email.schedule import ScheduleRefused
from tests.recipes.delayed_email.conftest import email_config
from tests.support import wait_until


def _drained(broker: CookbookBroker) -> None:
    """Every copy handled: Dramatiq's join counts the queue and its delay queue."""
    broker.join(QUEUE, timeout=30_000)


def test_a_copy_delivered_after_the_send_is_dropped(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, start_worker,
    smtp_server,
) -> None:  # type: ignore[no-untyped-def]
    smtp = smtp_server()
    actors = register(broker, redis_client, settings.namespace, email_config(smtp.port))
    record = send_later(actors, sample_email("once"), delay_ms=0)
    start_worker(queues=[QUEUE], threads=4)
    wait_until(lambda: smtp.by_email().get("once"), timeout=20, message="first send")
    _drained(broker)
    # A redelivery of the same job (same token), now and from the delay queue.
    copy = SendEmail(email_id="once", token=record.token)
    actors.send.send(copy)
    actors.send.send_with_options(copy, delay=200)
    _drained(broker)
    assert len(smtp.by_email()["once"]) == 1
    assert broker.dead_letters.count() == 0


def test_copies_racing_at_the_same_instant_yield_one_email(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, start_worker,
    smtp_server,
) -> None:  # type: ignore[no-untyped-def]
    """A slow server keeps the first send open while the other copies find the claim held."""
    smtp = smtp_server(reply_delay_s=0.5)
    actors = register(broker, redis_client, settings.namespace, email_config(smtp.port))
    ids = [f"race-{i}" for i in range(5)]
    for email_id in ids:
        record = send_later(actors, sample_email(email_id), delay_ms=0)
        for _ in range(3):
            actors.send.send(SendEmail(email_id=email_id, token=record.token))
    start_worker(queues=[QUEUE], threads=8)
    wait_until(lambda: set(smtp.by_email()) >= set(ids), timeout=30, message="all raced emails")
    wait_until(lambda: actors.schedule.counts()["records"] == 0, timeout=20, message="records")
    _drained(broker)
    assert {k: len(v) for k, v in smtp.by_email().items()} == {k: 1 for k in ids}
    assert broker.dead_letters.count() == 0


def test_cancel_beats_a_copy_already_on_the_queue(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, start_worker,
    smtp_server,
) -> None:  # type: ignore[no-untyped-def]
    """Promoted (main queue) and delay-queue copies exist before cancel; none is sent."""
    smtp = smtp_server()
    actors = register(broker, redis_client, settings.namespace, email_config(smtp.port))
    for name in ("keep", "drop"):
        send_later(actors, sample_email(f"{name}-long"), delay_ms=0, via="schedule")
        send_later(actors, sample_email(f"{name}-short"), delay_ms=0, via="delay")
        send_later(actors, sample_email(f"{name}-now"), delay_ms=0, via="now")
    assert actors.schedule.promote() == 2  # both long-path emails are now on the queue
    counts = actors.schedule.counts()
    assert (counts["queue"], counts["delay_queue"], counts["schedule"]) == (4, 2, 0)
    for path in ("long", "short", "now"):
        assert cancel(actors, f"drop-{path}") == "cancelled"
    start_worker(queues=[QUEUE], threads=4)
    keep = {f"keep-{p}" for p in ("long", "short", "now")}
    wait_until(lambda: set(smtp.by_email()) >= keep, timeout=20, message="kept emails")
    _drained(broker)
    assert set(smtp.by_email()) == keep
    assert actors.schedule.counts()["records"] == 0


def test_schedule_outcomes_by_email_id(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, start_worker,
    smtp_server,
) -> None:  # type: ignore[no-untyped-def]
    smtp = smtp_server()
    actors = register(broker, redis_client, settings.namespace, email_config(smtp.port))
    assert cancel(actors, "never-scheduled") == "unknown"
    assert reschedule(actors, "never-scheduled", delay_ms=10) == "unknown"
    send_later(actors, sample_email("twice"), delay_ms=86_400_000)
    with pytest.raises(ScheduleRefused, match="exists"):
        send_later(actors, sample_email("twice"), delay_ms=0)
    assert cancel(actors, "twice") == "cancelled"
    assert cancel(actors, "twice") == "unknown"
    send_later(actors, sample_email("twice"), delay_ms=0)  # a cancelled id may be reused
    start_worker(queues=[QUEUE], threads=2)
    wait_until(lambda: smtp.by_email().get("twice"), timeout=20, message="reused id sent")
    wait_until(lambda: actors.idem.is_done("email:twice"), timeout=10, message="marked sent")
    assert cancel(actors, "twice") == "sent"
    assert reschedule(actors, "twice", delay_ms=0) == "sent"
    with pytest.raises(ScheduleRefused, match="sent"):
        send_later(actors, sample_email("twice"), delay_ms=0)
    _drained(broker)
    assert len(smtp.by_email()["twice"]) == 1
