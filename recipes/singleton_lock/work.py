"""The body of the demo singleton job, and a run log the tests and demo read.

The job does what any job behind a singleton lock should do: it carries its lease's fence
to every call on the protected resource, checks the lease between steps (a lost lease stops
it early), and checks for worker shutdown so a long job leaves promptly on SIGTERM.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from typing import Any

import redis
from dramatiq.middleware import CurrentMessage

from common.shutdown import raise_if_stopping
from recipes.singleton_lock import GATE_MAX_S, STEP_S, runs_key
from recipes.singleton_lock.lease import current_lease
from recipes.singleton_lock.models import ReportJob
from recipes.singleton_lock.resource import FencedStore


def holder_id() -> str:
    """Who holds the lease: host, process and thread (the pid lets tests kill the holder)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def rebuild_report(job: ReportJob, store: FencedStore, runs: RunLog) -> None:
    lease = current_lease()
    holder = holder_id()
    store.enter(holder, lease.fence, job.job_id)
    try:
        started = time.monotonic()
        while True:
            elapsed = time.monotonic() - started
            waiting = (job.gate is not None and elapsed < GATE_MAX_S
                       and not store.gate_open(job.gate))
            if elapsed * 1000 >= job.work_ms and not waiting:
                break
            time.sleep(STEP_S)
            lease.check()
            raise_if_stopping()
        store.write(holder, lease.fence, job.job_id, job.value)
        runs.record(job, fence=lease.fence, renewals=lease.renewals)
    finally:
        store.exit(holder, lease.fence, job.job_id)


class RunLog:
    """Append-only list of completed runs with their attempt and deferral counts."""

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.client = client
        self.key = runs_key(namespace)

    def record(self, job: ReportJob, **extra: Any) -> None:
        message = CurrentMessage.get_current_message()
        options = message.options if message is not None else {}
        self.client.rpush(self.key, json.dumps({
            "job": job.job_id, "key": job.key, "value": job.value, "pid": os.getpid(),
            "retries": options.get("retries", 0), "deferrals": options.get("deferrals", 0),
            **extra,
        }))

    def all(self) -> list[dict[str, Any]]:
        return [json.loads(r) for r in self.client.lrange(self.key, 0, -1)]

    def jobs(self) -> list[str]:
        return [r["job"] for r in self.all()]
