"""Worker module for the soak: ``dramatiq bench.soak_app``. Mixed load, counted in Redis."""

from __future__ import annotations

import random
import time

import dramatiq

from common.broker import make_broker
from common.idempotency import Idempotency
from common.settings import get_settings
from recipes.fifo_ordered.actors import register as register_fifo

settings = get_settings()
broker = make_broker(settings)
dramatiq.set_broker(broker)
client = broker.client
ns = settings.namespace
idem = Idempotency(client, ns, lease_ms=3_000)
fifo = register_fifo(broker, client, ns)


@dramatiq.actor(queue_name="soak", max_retries=5, min_backoff=100, max_backoff=1_000)
def effect(job_id: str, work_ms: int) -> None:
    """Idempotent job: its effect and done-mark commit together; 2% fail transiently."""
    with idem.once(job_id) as claim:
        if claim is None:
            return
        time.sleep(work_ms / 1000)
        if random.random() < 0.02:
            raise ConnectionError("flaky dependency")
        pipe = client.pipeline(transaction=True)
        pipe.hincrby(f"{ns}:soak:effects", job_id, 1)
        idem.mark_done(claim, pipe=pipe)
        pipe.execute()


@dramatiq.actor(queue_name="soak", max_retries=1, min_backoff=50, max_backoff=100)
def poison(job_id: str) -> None:
    raise ValueError(f"poison {job_id}")
