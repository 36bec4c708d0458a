"""Tour demo: 40 emails over 0-3 s on both paths, 5 cancelled, 5 rescheduled, 1 duplicate,
and 500 emails a week ahead that stay in Redis; its own aiosmtpd server checks the result."""

from __future__ import annotations

import time
from collections.abc import Callable

from common.broker import CookbookBroker
from common.settings import Settings
from common.worker import running_worker
from recipes.delayed_email import QUEUE
from recipes.delayed_email.actors import register
from recipes.delayed_email.config import EmailConfig
from recipes.delayed_email.enqueue import cancel, reschedule, sample_email, send_later
from recipes.delayed_email.models import SendEmail
from recipes.delayed_email.smtp_server import RecordingSmtp

SENT, CANCELLED, MOVED, LATER = 40, 5, 5, 500
WEEK_MS = 7 * 86_400_000


def demo(broker: CookbookBroker, settings: Settings, report: Callable[[int, int], None]) -> int:
    smtp = RecordingSmtp().start()
    try:
        return _run(broker, settings, report, smtp)
    finally:
        smtp.stop()


def _run(broker: CookbookBroker, settings: Settings, report: Callable[[int, int], None],
         smtp: RecordingSmtp) -> int:
    config = EmailConfig(smtp_port=smtp.port, promote_interval_ms=100, min_backoff_ms=100)
    actors = register(broker, broker.client, settings.namespace, config)
    due: dict[str, int] = {}
    for i in range(SENT + CANCELLED + MOVED):
        record = send_later(actors, sample_email(f"tour-{i}"), delay_ms=(i * 75) % 3_000,
                            via="delay" if i % 2 else "schedule")
        due[record.email.email_id] = record.due_ms
    cancelled = [f"tour-{SENT + i}" for i in range(CANCELLED)]
    for email_id in cancelled:
        if cancel(actors, email_id) != "cancelled":
            raise AssertionError(f"{email_id} could not be cancelled")
        del due[email_id]
    for i in range(MOVED):
        email_id = f"tour-{SENT + CANCELLED + i}"
        reschedule(actors, email_id, delay_ms=3_000 + 100 * i)
        due[email_id] = actors.schedule.get(email_id).due_ms  # type: ignore[union-attr]
    first = actors.schedule.get("tour-39")
    if first is not None:  # a second copy of a live job, as dramatiq#431 would make
        actors.send.send_with_options(SendEmail(email_id="tour-39", token=first.token))
    actors.schedule.schedule_many([sample_email(f"week-{i}") for i in range(LATER)],
                                  delay_ms=WEEK_MS)

    with running_worker(broker, queues=[QUEUE], threads=8):
        deadline = time.monotonic() + 30
        while len(smtp.by_email()) < len(due):
            report(len(smtp.by_email()), len(due))
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(smtp.by_email())} of {len(due)} arrived")
            time.sleep(0.1)
        broker.join(QUEUE, timeout=30_000)
        report(len(smtp.by_email()), len(due))
        counts = actors.schedule.counts()
    arrived = smtp.by_email()
    if set(arrived) != set(due) or any(len(v) != 1 for v in arrived.values()):
        raise AssertionError(f"not exactly once: {sorted((k, len(v)) for k, v in arrived.items())}")
    early = [k for k, v in arrived.items() if v[0].at * 1000 < due[k]]
    if early:
        raise AssertionError(f"sent before due: {early}")
    if counts["schedule"] != LATER or counts["delay_queue_msgs"] != 0:
        raise AssertionError(f"week-ahead emails should sit only in Redis: {counts}")
    return SENT + CANCELLED + MOVED + 1 + LATER  # scheduled, incl. the duplicate copy
