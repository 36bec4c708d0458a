"""Schedules persisted in Redis as JSON: add, pause, resume, remove at run time.

Why not APScheduler's ``RedisJobStore``: it pickles jobs (a pickle in Redis runs code when
loaded, and the project keeps JSON only), and it lets one process own a job's next run time,
which is the wrong model for replicas that all fire and then claim. Here Redis holds the
*definitions*; each replica syncs them into its own in-memory APScheduler.

Every change bumps ``version``; replicas poll that one key and re-read only when it moved.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import redis
from pydantic import ValidationError

from recipes.recurring_cron import keys
from recipes.recurring_cron.models import Schedule

log = logging.getLogger(__name__)


def _now_ms() -> int:
    return int(time.time() * 1000)


class ScheduleStore:
    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.client = client
        self.keys = keys(namespace)

    def put(self, schedule: Schedule) -> Schedule:
        """Add or replace a schedule (validated again here); returns what was stored.

        ``since_ms`` left at 0 becomes now. Set it in the past to backfill: the ticks since
        then count as missed, and the schedule's misfire policy decides which of them run.
        """
        schedule = Schedule.model_validate(schedule.model_dump(warnings=False))
        now = _now_ms()
        updates: dict[str, Any] = {"since_ms": schedule.since_ms or now}
        if schedule.trigger.kind == "interval" and schedule.trigger.anchor_ms is None:
            # The next whole second: readable tick ids, identical on every replica.
            anchor = math.ceil(now / 1000) * 1000
            updates["trigger"] = schedule.trigger.model_copy(update={"anchor_ms": anchor})
        schedule = schedule.model_copy(update=updates)
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(self.keys["schedules"], schedule.id, schedule.model_dump_json())
        pipe.incr(self.keys["version"])
        pipe.execute()
        return schedule

    def pause(self, schedule_id: str) -> Schedule:
        return self._update(schedule_id, paused=True)

    def resume(self, schedule_id: str) -> Schedule:
        """Ticks that fell in the pause are not misfires: ``since_ms`` moves to now."""
        return self._update(schedule_id, paused=False, since_ms=_now_ms())

    def remove(self, schedule_id: str) -> bool:
        pipe = self.client.pipeline(transaction=True)
        pipe.hdel(self.keys["schedules"], schedule_id)
        pipe.hdel(self.keys["last_fire"], schedule_id)
        pipe.hdel(self.keys["missed"], schedule_id)
        pipe.incr(self.keys["version"])
        return bool(pipe.execute()[0])

    def get(self, schedule_id: str) -> Schedule | None:
        raw = self.client.hget(self.keys["schedules"], schedule_id)
        return None if raw is None else Schedule.model_validate_json(raw)

    def version(self) -> int:
        return int(self.client.get(self.keys["version"]) or 0)

    def load(self) -> tuple[dict[str, Schedule], dict[str, str]]:
        """Every schedule, plus the ids whose stored JSON is invalid (with the reason)."""
        good: dict[str, Schedule] = {}
        bad: dict[str, str] = {}
        raw: dict[bytes, bytes] = self.client.hgetall(self.keys["schedules"])  # type: ignore[assignment]
        for key, value in raw.items():
            sid = key.decode(errors="replace")
            try:
                good[sid] = Schedule.model_validate_json(value)
            except ValidationError as exc:
                bad[sid] = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'json'}: {e['msg']}"
                                     for e in exc.errors())
        return good, bad

    def last_fire_ms(self, schedule_id: str) -> int:
        return int(self.client.hget(self.keys["last_fire"], schedule_id) or 0)

    def missed(self, schedule_id: str) -> int:
        """Ticks dropped because they were later than the schedule's grace."""
        return int(self.client.hget(self.keys["missed"], schedule_id) or 0)

    def _update(self, schedule_id: str, **changes: Any) -> Schedule:
        out: list[Schedule] = []

        def apply(pipe: redis.client.Pipeline) -> None:
            raw = pipe.hget(self.keys["schedules"], schedule_id)
            if raw is None:
                raise KeyError(f"no schedule {schedule_id!r}")
            updated = Schedule.model_validate_json(raw).model_copy(update=changes)
            pipe.multi()
            pipe.hset(self.keys["schedules"], schedule_id, updated.model_dump_json())
            pipe.incr(self.keys["version"])
            out.append(updated)

        self.client.transaction(apply, self.keys["schedules"])
        return out[-1]
