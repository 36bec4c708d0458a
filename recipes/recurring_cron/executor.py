"""An APScheduler executor that hands each job its scheduled run time.

APScheduler 3 calls ``job.func(*args, **kwargs)`` without saying which run time is being
served, yet a tick's identity *is* its scheduled time. This executor applies APScheduler's
own misfire rule (skip a run time later than ``misfire_grace_time``, emitting
``EVENT_JOB_MISSED``), then calls ``func(*args, scheduled_run_time=t)``. Coalescing is done
before this point by the scheduler itself (``coalesce=True`` leaves only the latest time).

It runs inline on the scheduler thread: a tick is two Redis calls and an enqueue, and
running inline means a replica never has a backlog of stale ticks in a thread pool.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from traceback import format_tb
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.executors.base import BaseExecutor
from apscheduler.job import Job

log = logging.getLogger(__name__)


class TickExecutor(BaseExecutor):
    def __init__(self, on_missed: Callable[[Job, datetime], None] | None = None) -> None:
        super().__init__()
        self.on_missed = on_missed

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        events: list[JobExecutionEvent] = []
        for run_time in run_times:
            late = datetime.now(UTC) - run_time
            grace = job.misfire_grace_time
            if grace is not None and late > timedelta(seconds=grace):
                log.warning("tick %s of %s is %.1fs late (grace %ss): dropped as missed",
                            run_time.isoformat(), job.id, late.total_seconds(), grace)
                events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id,
                                                job._jobstore_alias, run_time))
                if self.on_missed is not None:
                    self.on_missed(job, run_time)
                continue
            events.append(self._call(job, run_time))
        self._run_job_success(job.id, events)

    def _call(self, job: Job, run_time: datetime) -> JobExecutionEvent:
        alias = job._jobstore_alias
        try:
            result: Any = job.func(*job.args, scheduled_run_time=run_time, **job.kwargs)
        except Exception:
            exc, tb = sys.exc_info()[1:]
            log.exception("tick %s of %s failed", run_time.isoformat(), job.id)
            return JobExecutionEvent(EVENT_JOB_ERROR, job.id, alias, run_time, exception=exc,
                                     traceback="".join(format_tb(tb)))
        return JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, alias, run_time, retval=result)
