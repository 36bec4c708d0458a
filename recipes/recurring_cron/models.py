"""Schedule definitions (stored as JSON in Redis) and the tick message payload."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, Field, field_validator

from recipes.recurring_cron import DEFAULT_ACTOR, DEFAULT_COALESCE, DEFAULT_MISFIRE_GRACE_S, QUEUE

ScheduleId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Name = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$")]


class Interval(BaseModel):
    kind: Literal["interval"] = "interval"
    every_s: float = Field(ge=0.1, le=366 * 86_400)
    #: Fire times are ``anchor_ms + k * every``; fixed once so every replica computes the
    #: same ticks. The store sets it to the next whole second when left empty.
    anchor_ms: int | None = Field(default=None, ge=0)

    @field_validator("every_s")
    @classmethod
    def _whole_ms(cls, value: float) -> float:
        if abs(value * 1000 - round(value * 1000)) > 1e-6:
            raise ValueError("must be a whole number of milliseconds")
        return value


class Cron(BaseModel):
    kind: Literal["cron"] = "cron"
    crontab: str = Field(min_length=9, max_length=128, examples=["*/5 * * * *"])
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("crontab")
    @classmethod
    def _parses(cls, value: str) -> str:
        CronTrigger.from_crontab(value, timezone="UTC")  # raises ValueError naming the field
        return value


class Schedule(BaseModel):
    id: ScheduleId
    trigger: Interval | Cron = Field(discriminator="kind")
    actor: Name = DEFAULT_ACTOR
    queue: Name = QUEUE
    payload: dict[str, Any] = Field(default_factory=dict)
    #: After missed ticks: True = one catch-up run (the latest), False = run each missed tick.
    coalesce: bool = DEFAULT_COALESCE
    #: A tick later than this (scheduler down, Redis down) is dropped and counted as missed.
    #: Whole seconds, >= 1: APScheduler's own ``misfire_grace_time`` rule.
    misfire_grace_s: int = Field(default=DEFAULT_MISFIRE_GRACE_S, ge=1, le=7 * 86_400)
    paused: bool = False
    #: Set by the store when the schedule is added or resumed: no tick at or before it fires.
    since_ms: int = 0


class Tick(BaseModel):
    """What a scheduled actor receives: which tick this is, plus the schedule's payload."""

    schedule_id: ScheduleId
    tick_id: str
    fire_ms: int = Field(description="The scheduled fire time (epoch ms), not the send time.")
    #: Ticks skipped just before this one (downtime with coalescing, or over grace).
    missed_before: int = Field(default=0, ge=0)
    payload: dict[str, Any] = Field(default_factory=dict)
