"""One scheduler replica: Redis schedules -> in-memory APScheduler -> claimed ticks -> Dramatiq.

Run several for availability (each one fires every tick; the claim lets one enqueue it):
``uv run python -m recipes.recurring_cron.scheduler``  (SIGTERM/Ctrl-C stops it cleanly).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from datetime import UTC, datetime

import dramatiq
import redis
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger

from recipes.recurring_cron import (
    CLAIM_LEASE_MS,
    CONTROL_INTERVAL_S,
    DEFAULT_COALESCE,
    DEFAULT_MISFIRE_GRACE_S,
)
from recipes.recurring_cron.claims import TickLedger
from recipes.recurring_cron.executor import TickExecutor
from recipes.recurring_cron.firing import TickFirer
from recipes.recurring_cron.models import Schedule
from recipes.recurring_cron.replicas import Replicas
from recipes.recurring_cron.store import ScheduleStore
from recipes.recurring_cron.triggers import build_trigger, first_after, to_ms

log = logging.getLogger(__name__)


class CronScheduler:
    def __init__(self, broker: dramatiq.Broker, client: redis.Redis, namespace: str, *,
                 replica_id: str | None = None, lease_ms: int = CLAIM_LEASE_MS,
                 control_interval_s: float = CONTROL_INTERVAL_S) -> None:
        self.store = ScheduleStore(client, namespace)
        self.replicas = Replicas(client, namespace, replica_id)
        self.replica_id = self.replicas.replica_id
        self.ledger = TickLedger(client, namespace, lease_ms=lease_ms)
        self.firer = TickFirer(broker, namespace, self.ledger, self.replica_id)
        self.control_interval_s = control_interval_s
        self._aps = BackgroundScheduler(
            timezone=UTC, executors={"default": TickExecutor(self._on_missed)},
            # Explicit defaults; every schedule sets its own coalesce and grace anyway.
            job_defaults={"coalesce": DEFAULT_COALESCE, "max_instances": 1,
                          "misfire_grace_time": DEFAULT_MISFIRE_GRACE_S})
        self._defs: dict[str, Schedule] = {}
        self._triggers: dict[str, BaseTrigger] = {}
        self._bad: dict[str, str] = {}
        self._version = -1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._control_loop, name="cron-control",
                                        daemon=True)

    def start(self) -> CronScheduler:
        self._aps.start()
        self.control_once()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)
        if self._aps.running:
            self._aps.shutdown(wait=True)
        self.replicas.leave()

    def control_once(self) -> None:
        """Heartbeat, pick up schedule changes, re-fire abandoned claims."""
        self.sync()
        self.replicas.beat(version=self._version)
        self.firer.sweep(self._defs, self._triggers)

    def _control_loop(self) -> None:
        while not self._stop.wait(self.control_interval_s):
            try:
                self.control_once()
            except redis.RedisError as exc:  # Redis away: keep the last known schedules
                log.warning("cron control loop: %s", exc)
            except Exception:  # never let one bad pass stop syncing and sweeping
                log.exception("cron control loop failed; retrying")

    def sync(self) -> None:
        version = self.store.version()  # read before the schedules: a later change re-syncs
        if version == self._version:
            return
        defs, bad = self.store.load()
        for sid, reason in bad.items():
            if self._bad.get(sid) != reason:
                log.error("schedule %r ignored, stored definition is invalid: %s", sid, reason)
        self._bad = bad
        for sid in set(self._defs) - set(defs):
            self._unschedule(sid)
        for sid, schedule in defs.items():
            if self._defs.get(sid) != schedule:
                try:
                    self._apply(schedule)
                except (ValueError, TypeError) as exc:  # one bad schedule must not block others
                    log.error("schedule %r ignored, cannot be scheduled: %s", sid, exc)
        self._version = version

    def _apply(self, schedule: Schedule) -> None:
        if schedule.paused:
            self._unschedule(schedule.id)
            self._defs[schedule.id] = schedule
            return
        trigger = build_trigger(schedule)
        # Resume after the newest sent tick: ticks since then that are already due are
        # misfires, and APScheduler's coalesce and grace rules decide what runs.
        floor = max(self.store.last_fire_ms(schedule.id), schedule.since_ms)
        first = first_after(trigger, floor)
        # Known before the job exists, so its first tick finds it.
        self._defs[schedule.id], self._triggers[schedule.id] = schedule, trigger
        if first is None:
            self._unschedule(schedule.id, forget=False)
            return
        self._aps.add_job(self._fire, trigger, args=[schedule.id], id=schedule.id,
                          name=schedule.id, replace_existing=True, next_run_time=first,
                          coalesce=schedule.coalesce, max_instances=1,
                          misfire_grace_time=schedule.misfire_grace_s)
        log.info("schedule %s active, next tick %s", schedule.id, first.isoformat())

    def _unschedule(self, sid: str, *, forget: bool = True) -> None:
        with contextlib.suppress(JobLookupError):
            self._aps.remove_job(sid)
        if forget:
            self._defs.pop(sid, None)
            self._triggers.pop(sid, None)

    def _fire(self, sid: str, scheduled_run_time: datetime | None = None) -> bool:
        # TickExecutor always passes the run time; the default only satisfies APScheduler's
        # signature check at add_job.
        schedule, trigger = self._defs.get(sid), self._triggers.get(sid)
        if schedule is None or trigger is None or schedule.paused or scheduled_run_time is None:
            return False
        return self.firer.send(schedule, trigger, to_ms(scheduled_run_time))

    def _on_missed(self, job: Job, run_time: datetime) -> None:
        schedule = self._defs.get(job.id)
        if schedule is not None:
            self.firer.missed(schedule, to_ms(run_time))


def main() -> None:
    import os
    import signal

    from common.broker import make_broker
    from common.logging import configure_logging
    from common.settings import get_settings

    configure_logging(os.environ.get("COOKBOOK_LOG_LEVEL", "INFO"))
    settings = get_settings()
    broker = make_broker(settings)
    dramatiq.set_broker(broker)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    replica = CronScheduler(broker, broker.client, settings.namespace).start()
    log.info("scheduler replica %s ready", replica.replica_id)
    stop.wait()
    replica.stop()
    broker.close()


if __name__ == "__main__":
    main()
