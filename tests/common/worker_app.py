"""Actors for the foundation's subprocess tests: ``dramatiq tests.common.worker_app``."""

from __future__ import annotations

import os
import time

import dramatiq

from common.broker import make_broker
from common.errors import PermanentError
from common.idempotency import Idempotency
from common.settings import get_settings
from common.shutdown import Checkpoints, raise_if_stopping

settings = get_settings()
broker = make_broker(settings)
dramatiq.set_broker(broker)
client = broker.client
ns = settings.namespace
idem = Idempotency(client, ns, lease_ms=int(os.environ.get("TEST_IDEM_LEASE_MS", "3000")))
WORK_QUEUE = "work"


@dramatiq.actor(queue_name=WORK_QUEUE, max_retries=3, min_backoff=100, max_backoff=500)
def work(job_id: str, duration_ms: int) -> None:
    """Simulated job whose side effect (a Redis RPUSH) commits together with its done-mark."""
    client.sadd(f"{ns}:started", job_id)
    with idem.once(job_id) as claim:
        if claim is None:
            return
        time.sleep(duration_ms / 1000)
        pipe = client.pipeline(transaction=True)
        pipe.rpush(f"{ns}:effects", job_id)
        idem.mark_done(claim, pipe=pipe)
        pipe.execute()
    client.sadd(f"{ns}:finished", job_id)


@dramatiq.actor(queue_name="fragile", max_retries=0)
def needs_fix(job_id: str) -> None:
    if not client.exists(f"{ns}:fixed"):
        raise PermanentError("dependency missing: set the fixed flag")
    client.sadd(f"{ns}:fixed_done", job_id)


@dramatiq.actor(queue_name="long", max_retries=0)
def long_job(job_id: str, steps: int, step_ms: int) -> None:
    """Checkpoints after each step; on shutdown it stops between steps and resumes later."""
    checkpoints = Checkpoints(client, ns)
    state = checkpoints.load() or {"next": 0}
    for step in range(state["next"], steps):
        raise_if_stopping()  # Interrupted: requeued now, no attempt counted
        time.sleep(step_ms / 1000)
        client.rpush(f"{ns}:steps:{job_id}", step)
        checkpoints.save({"next": step + 1})
    checkpoints.clear()
    client.sadd(f"{ns}:finished", job_id)
