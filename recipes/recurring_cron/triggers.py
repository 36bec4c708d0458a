"""APScheduler triggers built from stored schedules, and tick arithmetic on them.

Every replica must compute the *same* fire times, because a tick's identity is
(schedule id, fire time): intervals are anchored (``anchor_ms``), never "now + interval",
jitter is never used, and times are compared as whole epoch milliseconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from recipes.recurring_cron.models import Schedule

#: Counting missed ticks walks the trigger; stop after this many (a per-second schedule
#: down for a month would otherwise take a while to count): ``missed_before`` saturates.
MAX_COUNT = 10_000


def build_trigger(schedule: Schedule) -> BaseTrigger:
    spec = schedule.trigger
    if spec.kind == "cron":
        return CronTrigger.from_crontab(spec.crontab, timezone=spec.timezone)
    if spec.anchor_ms is None:
        raise ValueError(f"schedule {schedule.id!r}: interval has no anchor (use the store)")
    return IntervalTrigger(seconds=spec.every_s, start_date=to_dt(spec.anchor_ms), timezone=UTC)


def to_ms(when: datetime) -> int:
    return round(when.timestamp() * 1000)


def to_dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def first_after(trigger: BaseTrigger, floor_ms: int) -> datetime | None:
    """The first fire time strictly after ``floor_ms``."""
    # 0.5 ms past the floor: float rounding in the interval trigger can land a tick a few
    # microseconds off its whole millisecond, and that tick must not count as "after".
    return trigger.get_next_fire_time(None, to_dt(floor_ms) + timedelta(microseconds=500))


def fire_times_between(trigger: BaseTrigger, after_ms: int, before_ms: int) -> list[int]:
    """Fire times strictly between two ticks (at most ``MAX_COUNT``, oldest first)."""
    if after_ms <= 0:
        return []
    found: list[int] = []
    nxt = first_after(trigger, after_ms)
    while nxt is not None and to_ms(nxt) < before_ms and len(found) < MAX_COUNT:
        found.append(to_ms(nxt))
        nxt = first_after(trigger, found[-1])
    return found
