"""Cancel and reschedule beat copies already on a queue or in a worker's memory."""

from __future__ import annotations

from collections.abc import Callable

import dramatiq
import pytest
import redis

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.delayed_email import QUEUE
from recipes.delayed_email.actors import DelayedEmailActors, register
from recipes.delayed_email.enqueue import cancel, reschedule, sample_email, send_later
from recipes.delayed_email.schedule import ScheduleRefused
from recipes.delayed_email.smtp_server import RecordingSmtp
from tests.recipes.delayed_email.conftest import email_config
from tests.support import wait_until

StartWorker = Callable[..., dramatiq.Worker]


@pytest.fixture
def setup(broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
          smtp_server: Callable[..., RecordingSmtp]) -> tuple[DelayedEmailActors, RecordingSmtp]:
    smtp = smtp_server()
    return register(broker, redis_client, settings.namespace, email_config(smtp.port)), smtp


def test_cancel_beats_a_promoted_copy_and_one_held_in_worker_memory(
    setup: tuple[DelayedEmailActors, RecordingSmtp], broker: CookbookBroker,
    start_worker: StartWorker,
) -> None:
    actors, smtp = setup
    send_later(actors, sample_email("promoted"), delay_ms=0, via="schedule")
    assert actors.schedule.promote() == 1  # now a real message on the queue, no worker yet
    assert actors.schedule.counts()["queue"] == 1
    assert cancel(actors, "promoted") == "cancelled"
    send_later(actors, sample_email("in-memory"), delay_ms=1_500, via="delay")
    send_later(actors, sample_email("control"), delay_ms=1_500, via="delay")
    start_worker(queues=[QUEUE], threads=4)
    # The worker fetched the delayed copies: Dramatiq's DQ list is empty, they are in RAM.
    wait_until(lambda: actors.schedule.counts()["delay_queue"] == 0, timeout=10,
               message="delayed copies fetched into the worker")
    assert cancel(actors, "in-memory") == "cancelled"
    wait_until(lambda: "control" in smtp.by_email(), timeout=15, message="control email")
    broker.join(QUEUE, timeout=15_000)
    assert set(smtp.by_email()) == {"control"}
    assert actors.schedule.counts()["records"] == 0


def test_reschedule_drops_the_stale_copy_and_sends_once_at_the_new_time(
    setup: tuple[DelayedEmailActors, RecordingSmtp], broker: CookbookBroker,
    start_worker: StartWorker,
) -> None:
    actors, smtp = setup
    send_later(actors, sample_email("moved"), delay_ms=0, via="schedule")
    assert actors.schedule.promote() == 1  # the old copy is already on the queue
    assert reschedule(actors, "moved", delay_ms=1_000, via="delay") == "rescheduled"
    record = actors.schedule.get("moved")
    assert record is not None
    start_worker(queues=[QUEUE], threads=4)
    wait_until(lambda: "moved" in smtp.by_email(), timeout=15, message="rescheduled email")
    broker.join(QUEUE, timeout=15_000)
    [received] = smtp.by_email()["moved"]
    assert received.at * 1000 >= record.due_ms


def test_a_copy_made_stale_by_moving_days_ahead_is_dropped_not_held(
    setup: tuple[DelayedEmailActors, RecordingSmtp], start_worker: StartWorker,
) -> None:
    """Without the token check the old copy would wait days on the delay queue, in RAM."""
    actors, smtp = setup
    send_later(actors, sample_email("later"), delay_ms=300, via="delay")
    assert reschedule(actors, "later", delay_ms=2 * 86_400_000) == "rescheduled"
    start_worker(queues=[QUEUE], threads=4)
    wait_until(lambda: actors.promoter.ticks >= 10, timeout=15, message="promoter ticks")
    counts = actors.schedule.counts()
    assert (counts["delay_queue_msgs"], counts["queue"], counts["schedule"]) == (0, 0, 1), counts
    assert smtp.received() == []


def test_answers_for_unknown_sent_in_flight_and_duplicate_ids(
    setup: tuple[DelayedEmailActors, RecordingSmtp], broker: CookbookBroker,
    start_worker: StartWorker,
) -> None:
    actors, smtp = setup
    assert cancel(actors, "nope") == "unknown"
    assert reschedule(actors, "nope", delay_ms=10) == "unknown"
    send_later(actors, sample_email("dup"), delay_ms=60_000, via="schedule")
    with pytest.raises(ScheduleRefused, match="exists"):
        send_later(actors, sample_email("dup"), delay_ms=10)
    # A send under way holds the email's claim: cancel cannot promise it did not go out.
    send_later(actors, sample_email("busy"), delay_ms=60_000, via="schedule")
    claim = actors.idem.claim("email:busy")
    assert cancel(actors, "busy") == "sending"
    assert reschedule(actors, "dup", delay_ms=0) == "rescheduled"
    start_worker(queues=[QUEUE], threads=2)
    wait_until(lambda: "dup" in smtp.by_email(), timeout=15, message="dup sent")
    broker.join(QUEUE, timeout=15_000)
    assert cancel(actors, "dup") == "sent"
    assert reschedule(actors, "dup", delay_ms=0) == "sent"
    with pytest.raises(ScheduleRefused, match="sent"):
        send_later(actors, sample_email("dup"), delay_ms=0)
    actors.idem.release(claim)
    assert set(smtp.by_email()) == {"dup"}
