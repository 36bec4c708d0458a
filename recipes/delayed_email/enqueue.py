"""Producer side: schedule, reschedule and cancel emails by id.

Run with: ``uv run python -m recipes.delayed_email.enqueue`` (5 emails over 4 s, 1 next week).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis

from common.broker import redis_failure
from recipes.delayed_email.actors import DelayedEmailActors
from recipes.delayed_email.models import Email, Record, Via
from recipes.delayed_email.schedule import CancelResult, RescheduleResult

SENDER = "noreply@cookbook.example"


@contextmanager
def _redis_needed(what: str) -> Iterator[None]:
    # Each change is one Lua call: when it fails, nothing was changed.
    try:
        yield
    except redis.RedisError as exc:
        mapped = redis_failure(exc)
        if mapped is None:
            raise
        error, text, detail = mapped
        raise error(f"Redis {text}; {what} ({detail})") from None


def send_later(actors: DelayedEmailActors, email: Email, *, delay_ms: int,
               via: Via | None = None) -> Record:
    """Up to ``short_delay_max_ms`` (10 min): Dramatiq's delay queue; longer: Redis schedule.

    Raises ``pydantic.ValidationError`` (bad email), ``ScheduleRefused`` (id already
    scheduled or sent), ``BrokerUnavailable`` (Redis down); in every case nothing is stored.
    """
    with _redis_needed(f"email {email.email_id!r} was not scheduled"):
        return actors.schedule.schedule(email, delay_ms=delay_ms, via=via)


def reschedule(actors: DelayedEmailActors, email_id: str, *, delay_ms: int,
               via: Via | None = None) -> RescheduleResult:
    with _redis_needed(f"email {email_id!r} was not rescheduled"):
        return actors.schedule.reschedule(email_id, delay_ms=delay_ms, via=via)


def cancel(actors: DelayedEmailActors, email_id: str) -> CancelResult:
    with _redis_needed(f"email {email_id!r} was not cancelled"):
        return actors.schedule.cancel(email_id)


def sample_email(email_id: str, *, to: str = "someone@example.com") -> Email:
    return Email(email_id=email_id, sender=SENDER, to=to, subject=f"Reminder {email_id}",
                 body=f"This is email {email_id}.")


def sample_emails(count: int, *, prefix: str = "mail-") -> list[Email]:
    return [sample_email(f"{prefix}{i}") for i in range(count)]


if __name__ == "__main__":
    from recipes.delayed_email.worker import actors as worker_actors

    for i, email in enumerate(sample_emails(5, prefix="demo-")):
        send_later(worker_actors, email, delay_ms=i * 1_000)
    send_later(worker_actors, sample_email("demo-next-week"), delay_ms=7 * 86_400_000)
    print("scheduled demo-0..4 (0-4 s, delay queue) and demo-next-week (Redis schedule)")
    print("cancel the last one with: actors.schedule.cancel('demo-next-week')")
