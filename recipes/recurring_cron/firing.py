"""Firing a tick: claim it, enqueue it, confirm it; and re-firing ticks a dead replica left.

Used by every replica for every tick it fires; ``claims`` makes all but one of them stop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import dramatiq
from apscheduler.triggers.base import BaseTrigger

from recipes.recurring_cron import CLAIM_KEEP_S, tick_id
from recipes.recurring_cron.claims import TickLedger
from recipes.recurring_cron.enqueue import send_tick
from recipes.recurring_cron.models import Schedule, Tick
from recipes.recurring_cron.triggers import fire_times_between

log = logging.getLogger(__name__)


class TickFirer:
    def __init__(self, broker: dramatiq.Broker, namespace: str, ledger: TickLedger,
                 replica_id: str) -> None:
        self.broker = broker
        self.namespace = namespace
        self.ledger = ledger
        self.replica_id = replica_id

    def send(self, schedule: Schedule, trigger: BaseTrigger, fire_ms: int) -> bool:
        """Claim the tick; the one replica that wins enqueues it. True if this one did."""
        tid = tick_id(schedule.id, fire_ms)
        last = self.ledger.claim(schedule.id, tid, self.replica_id)
        if last is None:
            return False
        # Ticks between the newest sent one (or the schedule's start) and this one that no
        # replica claimed: they never ran. (Claimed ones are being sent by a racing replica.)
        between = fire_times_between(trigger, max(last, schedule.since_ms), fire_ms)
        missed = self.ledger.count_unclaimed(schedule.id, between) if between else 0
        if missed:
            log.warning("schedule %s: %d tick(s) missed before %s", schedule.id, missed, tid)
        send_tick(self.broker, self.namespace, schedule, Tick(
            schedule_id=schedule.id, tick_id=tid, fire_ms=fire_ms, missed_before=missed,
            payload=schedule.payload))
        if not self.ledger.confirm(schedule.id, tid, self.replica_id, fire_ms=fire_ms,
                                   keep_s=schedule.misfire_grace_s + CLAIM_KEEP_S):
            log.warning("tick %s was re-claimed after our lease ran out: sent twice", tid)
        return True

    def missed(self, schedule: Schedule, fire_ms: int) -> None:
        """A tick later than its grace: counted once, however many replicas drop it."""
        self.ledger.mark_missed(schedule.id, tick_id(schedule.id, fire_ms),
                                keep_s=schedule.misfire_grace_s + CLAIM_KEEP_S)

    def sweep(self, schedules: Mapping[str, Schedule],
              triggers: Mapping[str, BaseTrigger]) -> int:
        """Re-fire ticks claimed but never confirmed (their replica died); returns how many."""
        now_ms = int(time.time() * 1000)
        fired = 0
        for tid in self.ledger.abandoned():
            sid, _, fire = tid.rpartition("@")
            schedule, trigger = schedules.get(sid), triggers.get(sid)
            if schedule is None or trigger is None or schedule.paused:
                self.ledger.drop(sid, tid, missed=False)
            elif now_ms - int(fire) > schedule.misfire_grace_s * 1000:
                self.ledger.drop(sid, tid, missed=True)
            elif self.send(schedule, trigger, int(fire)):
                log.warning("re-fired tick %s abandoned by a dead replica", tid)
                fired += 1
        return fired
